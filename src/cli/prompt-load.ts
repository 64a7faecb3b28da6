/**
 * Reads what `coop train` exports, with the app's own parsers: a learned prompt (coop-prompt) or a feature-only
 * method's classifier (coop-adapter: CLAP, LP++, TaskRes, CLIP-Adapter). A file for another model is refused, and so
 * is one larger than any real prompt file (checked before it is read).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { FEATURE_METHOD_NAMES, isAdapterFile, parseAdapterFile } from '../coop/adapter-file';
import { adapterLogits } from '../coop/adapter-methods';
import { parsePromptFile, promptFileSizeProblem, type LearnedPrompt } from '../coop/prompt-file';
import type { TextEngineLike } from '../worker/text-engine';
import { needsHandWritten } from '../coop/method-learner';
import { promptLearner } from '../coop/prompt-learner';
import { SUCCESSOR_LABELS, successorConfig, successorFromFile } from '../coop/successors';
import { handTextFeatures, learnedTextFeatures, promptSpec, type Loaded } from './common';

/** The file's text, once it is known to be a regular file of a prompt file's size at most. */
function readBounded(file: string): string {
  if (!existsSync(file)) throw new Error(`--prompt ${file} does not exist`);
  const st = statSync(file);
  if (!st.isFile()) throw new Error(`--prompt ${file} is not a regular file`);
  const tooLarge = promptFileSizeProblem(st.size, `--prompt ${file}`);
  if (tooLarge) throw new Error(tooLarge);
  return readFileSync(file, 'utf8');
}

export function readPrompt(file: string, l: Loaded): LearnedPrompt {
  const r = parsePromptFile(readBounded(file), { id: l.model.manifest.id, fingerprint: l.model.textFingerprint, width: l.weights.config.D });
  if (!r.ok) throw new Error(`--prompt ${file}: ${r.error}`);
  return r.prompt;
}

/**
 * A classifier read from a file: its classes, what made it, and its logits [n, K] on L2-normalized image features
 * (a successor's prompt scores through its method, on the text engine: asynchronous).
 */
export interface Classifier {
  classNames: string[];
  madeBy: string;
  logits(features: Float32Array, n: number): Promise<Float32Array>;
  /**
   * The learned prompt it was read from (absent for a coop-adapter file): a version-2 file's method and its
   * context's extras (prompt-file.ts) are here, whole, for the method's own prediction.
   */
  prompt?: LearnedPrompt;
}

export async function readClassifier(file: string, l: Loaded, engine: () => Promise<TextEngineLike>): Promise<Classifier> {
  const text = readBounded(file);
  const dim = l.model.manifest.embed_dim;
  if (isAdapterFile(text)) {
    const r = parseAdapterFile(text, { id: l.model.manifest.id, imageFingerprint: l.model.visionFingerprint, dim });
    if (!r.ok) throw new Error(`--prompt ${file}: ${r.error}`);
    const w = r.file.weights;
    return { classNames: r.file.classNames, madeBy: FEATURE_METHOD_NAMES[w.method], logits: async (f) => adapterLogits(w, f, dim) };
  }
  const prompt = readPrompt(file, l);
  if (prompt.method) return successorClassifier(prompt, l, await engine());
  const classText = await learnedTextFeatures(await engine(), l, prompt.classNames, prompt.context, prompt.position);
  const scale = Math.min(l.model.manifest.logit_scale, 100);
  const K = prompt.classNames.length;
  return {
    classNames: prompt.classNames,
    madeBy: 'a learned prompt',
    prompt,
    logits: async (f, n) => {
      const out = new Float32Array(n * K);
      for (let r = 0; r < n; r++)
        for (let c = 0; c < K; c++) {
          let s = 0;
          for (let e = 0; e < dim; e++) s += f[r * dim + e] * classText[c * dim + e];
          out[r * K + c] = scale * s;
        }
      return out;
    },
  };
}

/**
 * A successor's prompt (version 2) predicts through its method, as the training run's final evaluation did
 * (prompt-learner.ts scorer): CoCoOp's per-image context, the deep tokens, TCP's class tokens from the classes'
 * hand-written prompts (the file's template), DePT's head on its base classes (similarity alone on other classes).
 */
async function successorClassifier(prompt: LearnedPrompt, l: Loaded, engine: TextEngineLike): Promise<Classifier> {
  const m = successorFromFile(prompt.method!);
  const { D, E, L } = l.weights.config;
  const names = prompt.classNames;
  const base = m.baseClasses ?? names;
  // DePT's head scores its base classes, in their order; other classes (or another order) are new to it.
  const isBase = base.length === names.length && base.every((n, i) => n === names[i]);
  const hand = async (classes: readonly string[]) => {
    if (!m.template) throw new Error(`${SUCCESSOR_LABELS[m.method]} needs the hand-written template its prompt was trained with; the file names none`);
    return handTextFeatures(l, classes, [m.template], engine);
  };
  const cfg = successorConfig(m.method, m.settings, needsHandWritten(m.method) ? await hand(base) : null, l.model.manifest.logit_scale, { D, E, L, K: base.length });
  const block = prompt.method!.settings.block;
  // The block the file's class tokens were trained at (the model's default otherwise).
  if (cfg.method === 'tcp' && typeof block === 'number') cfg.tcp.block = block;
  engine.setPrompts(promptSpec(l, names, prompt.context.nCtx, prompt.context.cscClasses > 0, prompt.position));
  const learner = promptLearner(cfg, {
    step: (c, f, y, tg, sg) => engine.step(c.data, f, y, tg, sg),
    tower: (input) => engine.towerStep(input),
    textFeatures: (c) => engine.textFeatures(c),
  });
  const scorer = await learner.scorer(prompt.context, { which: isBase ? 'base' : 'new', nClasses: names.length, handWritten: m.method === 'tcp' ? await hand(names) : null });
  return { classNames: names, madeBy: SUCCESSOR_LABELS[m.method], prompt, logits: (f) => scorer.logits(f) };
}
