/**
 * Deep language prompting (the language-only IVLP baseline of MaPLe, Khattak et al., CVPR 2023; official code
 * muzairkhattak/multimodal-prompt-learning trainers/independentVL.py, clip/model.py ResidualAttentionBlock_IVLP,
 * configs/trainers/IVLP/vit_b16_c2_ep5_batch4_4ctx_language_only.yaml): besides CoOp's context at the input
 * (block 0, from "a photo of a"), every text block i = 1 .. PROMPT_DEPTH_TEXT − 1 owns M learnable tokens that
 * replace the hidden states at positions 1..M at its input, before ln_1, discarding what block i − 1 computed
 * there. The tokens are shared by every class; the loss is CoOp's (CE of exp(logit_scale) · f · tᵀ).
 *
 * With PROMPT_DEPTH_TEXT = 12 on a 12-block tower that is blocks 1..11, each [4, width], drawn N(0, 0.02²)
 * (nn.init.normal_ std 0.02 on VPT_shallow). The tokens ride in ContextVectors.extras as "deep_ctx.{i}" [M, D]
 * (officially transformer.resblocks.{i}.VPT_shallow); the tower computes their gradients (tower.ts DeepTokens).
 */
import { isCsc, RANDOM_INIT_STD, type ContextVectors, type NamedParam } from './context-init';
import { featureCrossEntropy, featureLogits } from './feature-ce';
import { createRng, deriveSeed, STREAM } from './random';
import type { LossAndGrad } from './trainer';
import type { DeepTokens, TowerStepFn } from '../engine/tower';

/** The official language-only config (SGD, cosine, 1 constant warmup epoch at 1e-5). */
export const DEEP_PROMPT_DEFAULTS = Object.freeze({
  nCtx: 4,
  initWords: 'a photo of a',
  /** PROMPT_DEPTH_TEXT: the input context plus blocks 1..depth−1. */
  depth: 12,
  batchSize: 4,
  epochs: 5,
  lr: 0.0025,
  std: RANDOM_INIT_STD,
});

const PREFIX = 'deep_ctx.';

/** Sub-stream of the context's seed stream (random.ts); one per block, so a block's draw does not depend on the others. */
const DEEP_STREAM = 0x64656570;

export function deepPromptName(block: number): string {
  return `${PREFIX}${block}`;
}

/** The blocks that get tokens for a prompt depth on an L-block tower: 1 .. min(depth, L) − 1, as ResidualAttentionBlock_IVLP (i ≥ 1 and i < depth). */
export function deepPromptBlocks(L: number, depth: number = L): number[] {
  if (!(Number.isInteger(depth) && depth >= 1)) throw new RangeError(`deep prompting: the prompt depth must be a positive integer, got ${depth}`);
  const out: number[] = [];
  for (let i = 1; i < Math.min(depth, L); i++) out.push(i);
  return out;
}

export interface DeepInitOptions {
  /** M per block (the official uses the input context's n_ctx). */
  nCtx: number;
  /** D, the token width. */
  dim: number;
  blocks: readonly number[];
  seed: number;
  std?: number;
}

/** One [M, D] tensor per block, N(0, std²), named "deep_ctx.{block}". */
export function initDeepPrompts({ nCtx, dim, blocks, seed, std = DEEP_PROMPT_DEFAULTS.std }: DeepInitOptions): NamedParam[] {
  if (!(Number.isInteger(nCtx) && nCtx >= 1)) throw new RangeError(`deep prompting: M must be a positive integer, got ${nCtx}`);
  return blocks.map((block) => {
    const rng = createRng(deriveSeed(seed, STREAM.context, DEEP_STREAM, block));
    const data = new Float32Array(nCtx * dim);
    for (let i = 0; i < data.length; i++) data[i] = std * rng.normal();
    return { name: deepPromptName(block), shape: [nCtx, dim], data };
  });
}

/** The context's extras as the tower's deep tokens (shared by every row), in the extras' order. */
export function deepTokensFromExtras(extras: readonly NamedParam[] | undefined, D: number): DeepTokens[] {
  const list = extras ?? [];
  if (list.length === 0) throw new Error('deep prompting: the context has no deep tokens (initDeepPrompts)');
  return list.map((p) => {
    const block = p.name.startsWith(PREFIX) ? Number(p.name.slice(PREFIX.length)) : NaN;
    if (!(Number.isInteger(block) && block >= 1)) throw new Error(`deep prompting: '${p.name}' is not a block's tokens (deep_ctx.1, deep_ctx.2, …)`);
    if (p.shape.length !== 2 || p.shape[1] !== D || p.data.length !== p.shape[0] * D) {
      throw new RangeError(`deep prompting: '${p.name}' has shape [${p.shape}], expected [M, ${D}]`);
    }
    return { block, tokens: p.data, perRow: false };
  });
}

export interface DeepConfig {
  /** K. */
  nClasses: number;
  /** E, the feature width. */
  dim: number;
  /** exp(logit_scale). */
  logitScale: number;
}

/** One step: loss, logits [B, K], d loss / d ctx and each block's token gradient in gradExtras (the extras' order). */
export async function deepLossAndGrad(
  cfg: DeepConfig,
  ctx: ContextVectors,
  features: Float32Array,
  labels: Int32Array,
  tower: TowerStepFn,
): Promise<LossAndGrad> {
  const { nClasses: K, dim: E, logitScale: scale } = cfg;
  const B = labels.length;
  const deep = deepTokensFromExtras(ctx.extras, ctx.dim);
  const r = await tower({
    ctx: ctx.data,
    csc: isCsc(ctx),
    deep,
    featureLoss: (txt) => featureCrossEntropy(features, txt, labels, { B, K, E, scale, R: K, row: (_b, k) => k }),
  });
  if (!r.gradCtx || !r.gradDeep || r.gradDeep.length !== deep.length) throw new Error('deep prompting: the tower returned no context or deep-token gradients');
  if (!r.logits) throw new Error('deep prompting: the tower returned no logits');
  r.gradDeep.forEach((g, i) => {
    if (g.length !== deep[i].tokens.length) throw new Error(`deep prompting: block ${deep[i].block}'s gradient has ${g.length} values, expected ${deep[i].tokens.length}`);
  });
  return { loss: r.loss, logits: r.logits, gradCtx: r.gradCtx, gradExtras: r.gradDeep };
}

/** The K classes' normalized text features [K·E] with the deep tokens in place (forward only). */
export async function deepTextFeatures(cfg: DeepConfig, ctx: ContextVectors, tower: TowerStepFn): Promise<Float32Array> {
  const r = await tower({ ctx: ctx.data, csc: isCsc(ctx), deep: deepTokensFromExtras(ctx.extras, ctx.dim) });
  if (r.textFeatures.length !== cfg.nClasses * cfg.dim) {
    throw new Error(`deep prompting: the tower returned ${r.textFeatures.length} text-feature values, expected K·E = ${cfg.nClasses}·${cfg.dim}`);
  }
  return r.textFeatures;
}

/** Logits [N, K] of normalized image features against the deep-prompted class features. */
export async function deepLogits(cfg: DeepConfig, ctx: ContextVectors, features: Float32Array, tower: TowerStepFn): Promise<Float32Array> {
  const { nClasses: K, dim: E, logitScale: scale } = cfg;
  const txt = await deepTextFeatures(cfg, ctx, tower);
  return Float32Array.from(featureLogits(features, txt, { B: features.length / E, K, E, scale, row: (_b, k) => k }));
}
