/** What every command shares: the model folder, its text weights, prompt specs and text features. */
import { initContext, type ContextVectors } from '../coop/context-init';
import { promptName, promptTokens } from '../coop/prompt-tokens';
import type { TrainSettings } from '../coop/settings';
import { ensembleClassFeatures } from '../app/zero-shot/scores';
import { tokenizePrompts } from '../app/zero-shot/text-features';
import type { TextWeights } from '../engine/model/text-weights';
import type { ClassTokenPosition, PromptSpec } from '../engine/prompt';
import type { TextEngineLike } from '../worker/text-engine';
import { loadModelDir, type CliModel } from './model-dir';

export interface Loaded {
  model: CliModel;
  weights: TextWeights;
  contextLength: number;
}

export async function loadAll(dir: string): Promise<Loaded> {
  const model = await loadModelDir(dir);
  return { model, weights: model.weights, contextLength: model.weights.config.P };
}

export function promptSpec(l: Loaded, names: readonly string[], nCtx: number, csc: boolean, position: ClassTokenPosition): PromptSpec {
  const t = promptTokens(l.model.tokenizer, names, nCtx, l.contextLength);
  const T = t.contextLength;
  return { tokenIds: names.map((_, k) => t.ids.subarray(k * T, (k + 1) * T)), nameLens: t.nameLens, nCtx, csc, position };
}

/** Normalized [K, E] features of the learned prompts for `names` (the engine's prompts are left set to them). */
export async function learnedTextFeatures(engine: TextEngineLike, l: Loaded, names: readonly string[], ctx: ContextVectors, position: ClassTokenPosition): Promise<Float32Array> {
  engine.setPrompts(promptSpec(l, names, ctx.nCtx, ctx.cscClasses > 0, position));
  return engine.textFeatures(ctx.data);
}

/** Normalized [K, E] zero-shot class features: one template, or the ensemble of several (the app's scores.ts). */
export async function handTextFeatures(l: Loaded, names: readonly string[], templates: readonly string[], engine: Pick<TextEngineLike, 'encodeTokens'>): Promise<Float32Array> {
  const { ids, problems } = tokenizePrompts(l.model.tokenizer, names.map(promptName), templates, l.contextLength);
  if (problems.length) throw new Error(problems.join('\n'));
  // The training engine's forward: on a GPU server the CPU twin took ~140 s for ViT-B/16's 72 baseline prompts.
  const text = await engine.encodeTokens(ids, names.length * templates.length);
  return ensembleClassFeatures(text, names.length, templates.length, l.weights.config.E);
}

/**
 * The class anchors CLAP and TaskRes start from, as their official code builds them: the mean over templates of the
 * text encoder's unnormalized outputs (no normalization before or after the mean), [K, E].
 */
export async function handTextAnchors(l: Loaded, names: readonly string[], templates: readonly string[], engine: Pick<TextEngineLike, 'encodeTokens'>): Promise<Float32Array> {
  const { ids, problems } = tokenizePrompts(l.model.tokenizer, names.map(promptName), templates, l.contextLength);
  if (problems.length) throw new Error(problems.join('\n'));
  const text = await engine.encodeTokens(ids, names.length * templates.length);
  const E = l.weights.config.E;
  const T = templates.length;
  const out = new Float32Array(names.length * E);
  for (let k = 0; k < names.length; k++) for (let t = 0; t < T; t++) for (let e = 0; e < E; e++) out[k * E + e] += text[(k * T + t) * E + e] / T;
  return out;
}

export function initialContext(l: Loaded, settings: TrainSettings, nClasses: number) {
  const { D } = l.weights.config;
  const table = l.weights.tokenEmbedding;
  return initContext(settings, {
    dim: D,
    nClasses,
    encode: (t) => l.model.tokenizer.encode(t),
    tokenEmbedding: (id) => Float32Array.from(table.subarray(id * D, (id + 1) * D)),
  });
}

/** Argmax of cos(image, class) per row: the worker's own scoring. */
export { predictClasses as predict } from '../worker/train-session';
