import type { ClipTokenizer } from '../../tokenizer';
import { ensembleClassFeatures } from './scores';
import { fillTemplate } from './templates';

/** What this module needs of the text tower. */
export interface TextIdsEncoder {
  readonly spec: { contextLength: number; embedDim: number };
  encodeIds(ids: Int32Array, rows: number): Promise<Float32Array>;
}

/**
 * Tokenizes every class × template prompt. Over-long class names are collected, not thrown one by
 * one, so the user sees every name to shorten at once.
 */
export function tokenizePrompts(
  tokenizer: ClipTokenizer,
  names: readonly string[],
  templates: readonly string[],
  contextLength: number,
): { ids: Int32Array; problems: string[] } {
  const ids = new Int32Array(names.length * templates.length * contextLength);
  const problems: string[] = [];
  names.forEach((name, k) => {
    for (const [t, template] of templates.entries()) {
      const prompt = fillTemplate(template, name);
      try {
        ids.set(tokenizer.tokenize(prompt, { contextLength }), (k * templates.length + t) * contextLength);
      } catch (e) {
        problems.push(`Class "${name}" is too long for the text encoder in "${prompt}": ${(e as Error).message}.`);
        break;
      }
    }
  });
  return { ids, problems };
}

/** Unit class features [K, D] for zero-shot: one template, or the renormalised mean over several. */
export async function classFeatures(
  encoder: TextIdsEncoder,
  tokenizer: ClipTokenizer,
  names: readonly string[],
  templates: readonly string[],
): Promise<Float32Array> {
  const { contextLength, embedDim } = encoder.spec;
  const { ids, problems } = tokenizePrompts(tokenizer, names, templates, contextLength);
  if (problems.length > 0) throw new ClassNameError(problems);
  const text = await encoder.encodeIds(ids, names.length * templates.length);
  return ensembleClassFeatures(text, names.length, templates.length, embedDim);
}

export class ClassNameError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ClassNameError';
  }
}
