/**
 * TCP (Yao, Zhang, Xu, CVPR 2024, "TCP: Textual-based Class-aware Prompt tuning for Visual-Language Model"; official
 * code htyao89/Textual-based_Class-aware_prompt_tuning, trainers/tcp.py and trainers/clip_text/model.py, read, not
 * copied).
 *
 * The Textual Knowledge Embedding (the official `meta_net`) maps each class's hand-written prompt feature c_k
 * (normalized, frozen) to class-aware tokens:
 *
 *   T_k = reshape(W₂ · QuickGELU(W₁ c_k + b₁) + b₂, [4, D]),   W₁ [E/4, E], W₂ [4·D, E/4],
 *
 * which replace the hidden states at positions 1..4 at the input of block 8 (0-based; weight 1.0, i.e. a plain
 * replacement) of the text tower, for class k's prompt row. The prompt at the input is "X X X X {class}." with 4
 * learned context vectors (random N(0, 0.02²)). The loss is KgCoOp's on the resulting features:
 *
 *   loss = CE(s · f tᵀ) + w · (1 − mean_k cos(t_k, c_k)),   w = 8.
 *
 * New classes get their tokens from the trained MLP on their own hand-written features (tcpTextFeatures).
 *
 * The tower runs the K class rows once per step with one deep-token entry {block, [K, 4, D], perRow}; the host forms
 * the loss on its normalized features, and turns the tokens' gradient into the MLP's (metaNetBackward).
 * Arithmetic is in doubles, the parameters are stored in float32 (context-init.ts NamedParam).
 */
import { isCsc, type ContextVectors, type NamedParam } from './context-init';
import { linearInit } from './cosine-head';
import { anchorPenalty, similarityCe } from './feature-loss';
import { deriveSeed } from './random';
import type { LossAndGrad } from './trainer';
import type { FeatureLoss, TowerStepFn } from '../engine/tower';
import { mlpBackward, mlpForward, type Mlp, type MlpForward } from './mlp';

/** The official defaults (configs/trainers/TCP/vit_b16_ep100_ctxv1.yaml, scripts/base2new_train.sh, train.py). */
export const TCP_DEFAULTS = {
  /** The knowledge term's weight (hard-coded 8.0 in CustomCLIP.forward; TRAINER.COOP.W is the block weight). */
  weight: 8.0,
  /** Class-aware tokens per class (the MLP's 4·D output). */
  nTokens: 4,
  /** Input context vectors (N_CTX 4, random init: CTX_INIT False). */
  nCtx: 4,
  /** Block whose input takes the class tokens on 12-layer CLIP. */
  block: 8,
  optimizer: 'adam',
  lr: 0.002,
  /** Dassl's default weight decay, added to the gradient by torch.optim.Adam. */
  weightDecay: 5e-4,
  betas: [0.9, 0.999] as const,
  epochs: 50,
  /** train.py sets 25 epochs for ImageNet and SUN397. */
  epochsImageNetSun: 25,
  batchSize: 32,
  warmupEpochs: 1,
  warmupLr: 1e-5,
} as const;

/** The official parameter names under prompt_learner (trainers/tcp.py PromptLearner.meta_net). */
export const TCP_PARAM_NAMES = ['meta_net.linear1.weight', 'meta_net.linear1.bias', 'meta_net.linear2.weight', 'meta_net.linear2.bias'] as const;

/** deriveSeed purpose tag of the MLP's initialization (random.ts STREAM's tags are 1..6). */
export const TCP_INIT_STREAM = 0x7c0;

/**
 * The block whose input takes the class tokens: the official 8 on 12-layer CLIP, two thirds of the depth on a
 * shallower tower (3 on the 4-layer toy CLIP), a named deviation (docs/methods.md).
 */
export function tcpBlock(layers: number): number {
  const b = Math.min(TCP_DEFAULTS.block, Math.round((2 * layers) / 3));
  if (!(b >= 1 && b < layers)) throw new RangeError(`TCP needs a text tower of at least 2 layers, got ${layers}`);
  return b;
}

export interface TcpConfig {
  /** K, the classes of the step's rows. */
  nClasses: number;
  /** E, the feature width. */
  dim: number;
  /** D, the token width. */
  tokenDim: number;
  /** s, CLIP's logit scale (exp of the learned one; not detached from anything we train). */
  logitScale: number;
  /** w of the knowledge term. */
  weight: number;
  /** The block whose input takes the tokens (tcpBlock). */
  block: number;
  /** The hand-written prompts' normalized features [K, E]: the MLP's input and the knowledge term's anchors. */
  handWritten: Float32Array;
}

/** The MLP with PyTorch's nn.Linear default initialization (uniform ±1/√fan_in), seeded; lrScale 1 (one Adam group). */
export function initTcpMetaNet({ dim, tokenDim, nTokens = TCP_DEFAULTS.nTokens, seed }: { dim: number; tokenDim: number; nTokens?: number; seed: number }): NamedParam[] {
  const H = Math.floor(dim / 4);
  if (!(H >= 1)) throw new RangeError(`TCP's MLP needs a feature width of at least 4, got ${dim}`);
  const O = nTokens * tokenDim;
  const init = (i: number, n: number, fanIn: number) => Float32Array.from(linearInit(n, fanIn, deriveSeed(seed, i), TCP_INIT_STREAM));
  return [
    { name: TCP_PARAM_NAMES[0], shape: [H, dim], data: init(0, H * dim, dim) },
    { name: TCP_PARAM_NAMES[1], shape: [H], data: init(1, H, dim) },
    { name: TCP_PARAM_NAMES[2], shape: [O, H], data: init(2, O * H, H) },
    { name: TCP_PARAM_NAMES[3], shape: [O], data: init(3, O, H) },
  ];
}

/** W₁, b₁, W₂, b₂ (row-major, PyTorch's [out, in]). */
export type MetaNetParams = readonly [ArrayLike<number>, ArrayLike<number>, ArrayLike<number>, ArrayLike<number>];

export interface MetaNetCache {
  input: ArrayLike<number>;
  K: number;
  /** The MLP's own record (mlp.ts): pre-activation, activation and output. */
  fwd: MlpForward;
}

const mlpOf = (p: MetaNetParams): Mlp => ({ w1: p[0], b1: p[1], w2: p[2], b2: p[3] });

/** Linear → QuickGELU → Linear on rows c [K, E]: [K, O] with O = 4·D (row k is class k's tokens [4, D]). */
export function metaNetForward(p: MetaNetParams, input: ArrayLike<number>, K: number, E: number): { out: Float64Array; cache: MetaNetCache } {
  const [w1, b1, w2, b2] = p;
  const H = b1.length;
  const O = b2.length;
  if (w1.length !== H * E || w2.length !== O * H) throw new RangeError(`TCP MLP: weights of ${w1.length} and ${w2.length} values do not fit E = ${E}, hidden ${H}, out ${O}`);
  if (input.length !== K * E) throw new RangeError(`TCP MLP: input of ${input.length} values, expected K·E = ${K}·${E}`);
  const fwd = mlpForward(mlpOf(p), input, K, 'quickgelu');
  return { out: fwd.out, cache: { input, K, fwd } };
}

/** The MLP's parameter gradients [dW₁, db₁, dW₂, db₂] from d loss / d out [K, O]; the input is frozen. */
export function metaNetBackward(p: MetaNetParams, cache: MetaNetCache, dOut: ArrayLike<number>): Float64Array[] {
  const O = p[3].length;
  if (dOut.length !== cache.K * O) throw new RangeError(`TCP MLP: output gradient of ${dOut.length} values, expected ${cache.K}·${O}`);
  const g = mlpBackward(mlpOf(p), cache.input, cache.fwd, dOut, cache.K, 'quickgelu');
  return [g.w1, g.b1, g.w2, g.b2];
}

/** The MLP's tensors in a context's extras, checked against the config, and where each sits among the extras. */
export function tcpParams(ctx: ContextVectors, dim: number, tokenDim: number): { params: MetaNetParams; index: number[]; nTokens: number } {
  const extras = ctx.extras ?? [];
  const index = TCP_PARAM_NAMES.map((name) => {
    const i = extras.findIndex((p) => p.name === name);
    if (i < 0) throw new Error(`TCP: the context has no '${name}' (initTcpMetaNet makes the MLP)`);
    return i;
  });
  const [w1, b1, w2, b2] = index.map((i) => extras[i]);
  const H = b1.data.length;
  const O = b2.data.length;
  const nTokens = O / tokenDim;
  if (w1.data.length !== H * dim || w2.data.length !== O * H || !Number.isInteger(nTokens) || nTokens < 1) {
    throw new RangeError(`TCP: MLP shapes [${w1.shape}], [${w2.shape}] do not fit E = ${dim}, D = ${tokenDim}`);
  }
  return { params: [w1.data, b1.data, w2.data, b2.data], index, nTokens };
}

/** The class-aware tokens [K, 4, D] of classes whose hand-written features are `handWritten` [K, E]. */
export function tcpClassTokens(ctx: ContextVectors, handWritten: ArrayLike<number>, dim: number, tokenDim: number): Float32Array {
  const { params } = tcpParams(ctx, dim, tokenDim);
  const K = handWritten.length / dim;
  if (!Number.isInteger(K)) throw new RangeError(`TCP: ${handWritten.length} hand-written values is not a multiple of E = ${dim}`);
  return Float32Array.from(metaNetForward(params, handWritten, K, dim).out);
}

export interface TcpTextLoss {
  loss: number;
  ce: number;
  kg: number;
  logits: Float32Array;
  dText: Float64Array;
}

/** CE(s · f tᵀ) + w(1 − mean cos(t, c)) on the normalized text features t [K, E], with its gradient on t. */
export function tcpTextLoss(cfg: TcpConfig, text: ArrayLike<number>, features: ArrayLike<number>, labels: ArrayLike<number>): TcpTextLoss {
  const { nClasses: K, dim: E } = cfg;
  const ce = similarityCe(text, features, labels, K, E, cfg.logitScale);
  const kg = anchorPenalty(text, cfg.handWritten, K, E, cfg.weight);
  const dText = ce.dText;
  for (let i = 0; i < dText.length; i++) dText[i] += kg.dText[i];
  return { loss: ce.loss + kg.penalty, ce: ce.loss, kg: kg.penalty, logits: ce.logits, dText };
}

/**
 * One TCP step: the MLP's class tokens into the tower at `cfg.block`, the loss on the K rows' features, the
 * context's gradient from the tower and the MLP's through the tokens' gradient. gradExtras follows ctx.extras' order
 * (zeros for any extra TCP does not use).
 */
export async function tcpLossAndGrad(cfg: TcpConfig, ctx: ContextVectors, features: Float32Array, labels: Int32Array, tower: TowerStepFn): Promise<LossAndGrad> {
  const { nClasses: K, dim: E, tokenDim: D } = cfg;
  if (cfg.handWritten.length !== K * E) throw new RangeError(`TCP: hand-written features have ${cfg.handWritten.length} values, expected K·E = ${K}·${E}`);
  const { params, index } = tcpParams(ctx, E, D);
  const mlp = metaNetForward(params, cfg.handWritten, K, E);
  let parts: TcpTextLoss | null = null;
  const featureLoss: FeatureLoss = (txt) => {
    parts = tcpTextLoss(cfg, txt, features, labels);
    return { loss: parts.loss, dTxt: parts.dText, logits: Float32Array.from(parts.logits) };
  };
  const r = await tower({ ctx: ctx.data, csc: isCsc(ctx), deep: [{ block: cfg.block, tokens: Float32Array.from(mlp.out), perRow: true }], featureLoss });
  if (!r.gradCtx || !r.gradDeep || r.gradDeep.length !== 1) throw new Error('TCP: the tower returned no context or class-token gradient');
  const p = parts as TcpTextLoss | null;
  if (!p) throw new Error('TCP: the tower did not call the feature loss');
  const grads = metaNetBackward(params, mlp.cache, r.gradDeep[0]);
  const gradExtras = (ctx.extras ?? []).map((e) => new Float32Array(e.data.length));
  index.forEach((i, j) => gradExtras[i].set(grads[j]));
  return { loss: r.loss, logits: r.logits ?? Float32Array.from(p.logits), gradCtx: r.gradCtx, gradExtras, terms: { ce: p.ce, kg: p.kg } };
}

/**
 * Normalized text features [K', E] of any classes from their hand-written features [K', E]: new classes get their
 * tokens from the trained MLP. The tower's prompts must be those classes' (set before the call); the learned
 * context is one shared set, as the official forward assumes.
 */
export async function tcpTextFeatures(
  cfg: Pick<TcpConfig, 'dim' | 'tokenDim' | 'block'>,
  ctx: ContextVectors,
  handWritten: Float32Array,
  tower: TowerStepFn,
): Promise<Float32Array> {
  if (isCsc(ctx)) throw new Error('TCP: new classes need one shared context (the official forward expands one set to every class)');
  const tokens = tcpClassTokens(ctx, handWritten, cfg.dim, cfg.tokenDim);
  const r = await tower({ ctx: ctx.data, deep: [{ block: cfg.block, tokens, perRow: true }] });
  return r.textFeatures;
}
