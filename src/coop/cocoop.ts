/**
 * CoCoOp (Zhou et al., CVPR 2022, "Conditional Prompt Learning for Vision-Language Models"; official code
 * KaiyangZhou/CoOp trainers/cocoop.py, configs/trainers/CoCoOp): a lightweight Meta-Net turns each image's
 * L2-normalized feature f_b into a bias π_b added to every context vector, so every image has its own prompts:
 *
 *   π_b = W2 · relu(W1 · f_b + b1) + b2        (Linear(E, E/16) → ReLU → Linear(E/16, D))
 *   row b·K + k = [SOS] (ctx_1 + π_b) … (ctx_M + π_b) class_k . [EOS]
 *   logits[b, k] = exp(logit_scale) · f_b · t_{b·K+k},   loss = mean_b CE(logits_b, y_b)
 *
 * A step therefore runs B × K prompts (tower.ts: repeat = B, ctxPerRow). Back from the tower comes one context
 * gradient per row; the shared context's is their sum, π_b's the sum over image b's K rows and M positions, and
 * π_b's goes back through the Meta-Net here on the host (it is E·E/16 + E/16·D weights: small).
 *
 * The Meta-Net's four tensors ride in ContextVectors.extras under the official state-dict names
 * ("meta_net.linear1.weight" [E/16, E], …), initialized as PyTorch's nn.Linear does by default
 * (U(±1/√fan_in) for weight and bias) from our seeded generator. Storage Float32, arithmetic Float64.
 */
import type { ContextVectors, NamedParam } from './context-init';
import { featureCrossEntropy, featureLogits } from './feature-ce';
import { createRng, deriveSeed, STREAM } from './random';
import type { LossAndGrad } from './trainer';
import type { TowerStepFn } from '../engine/tower';
import { mlpBackward, mlpForward, type MlpForward, type MlpGrads } from './mlp';

/** configs/trainers/CoCoOp/vit_b16_c4_ep10_batch1_ctxv1.yaml (SGD, cosine, 1 constant warmup epoch at 1e-5). */
export const COCOOP_DEFAULTS = Object.freeze({
  nCtx: 4,
  initWords: 'a photo of a',
  batchSize: 1,
  epochs: 10,
  lr: 0.002,
  /** The Meta-Net's hidden width is E / 16 (vis_dim // 16). */
  hiddenRatio: 16,
});

export const META_NET_NAMES = ['meta_net.linear1.weight', 'meta_net.linear1.bias', 'meta_net.linear2.weight', 'meta_net.linear2.bias'] as const;

/** Rows per tower call when scoring images (each image brings K rows), so evaluation memory stays bounded. */
export const COCOOP_EVAL_ROWS = 256;

/** Sub-stream of the context's seed stream (random.ts), so the Meta-Net's draw never coincides with another. */
const META_NET_STREAM = 0x6d657461;

export interface MetaNet {
  /** Input width (the image feature's E), hidden width (E/16), output width (the token width D). */
  E: number;
  H: number;
  D: number;
  /** [H, E], [H], [D, H], [D]: PyTorch's Linear layout (weight [out, in]). */
  w1: ArrayLike<number>;
  b1: ArrayLike<number>;
  w2: ArrayLike<number>;
  b2: ArrayLike<number>;
}

export function metaNetHidden(E: number): number {
  const H = Math.floor(E / COCOOP_DEFAULTS.hiddenRatio);
  if (!(H >= 1)) throw new RangeError(`CoCoOp: the image feature width ${E} is below 16, so the Meta-Net has no hidden unit`);
  return H;
}

/** nn.Linear's default init: kaiming_uniform_(a=√5) gives U(±1/√fan_in) for the weight, and the bias is U(±1/√fan_in). */
function linearInit(out: number, fanIn: number, rng: ReturnType<typeof createRng>): { w: Float32Array; b: Float32Array } {
  const bound = 1 / Math.sqrt(fanIn);
  const w = new Float32Array(out * fanIn);
  for (let i = 0; i < w.length; i++) w[i] = rng.uniform(-bound, bound);
  const b = new Float32Array(out);
  for (let i = 0; i < b.length; i++) b[i] = rng.uniform(-bound, bound);
  return { w, b };
}

/** The Meta-Net's four tensors as context extras, named and shaped as the official state dict. */
export function initMetaNet({ E, D, seed }: { E: number; D: number; seed: number }): NamedParam[] {
  const H = metaNetHidden(E);
  const rng = createRng(deriveSeed(seed, STREAM.context, META_NET_STREAM));
  const l1 = linearInit(H, E, rng);
  const l2 = linearInit(D, H, rng);
  return [
    { name: META_NET_NAMES[0], shape: [H, E], data: l1.w },
    { name: META_NET_NAMES[1], shape: [H], data: l1.b },
    { name: META_NET_NAMES[2], shape: [D, H], data: l2.w },
    { name: META_NET_NAMES[3], shape: [D], data: l2.b },
  ];
}

/** The context's extras as a Meta-Net; `index[i]` is where META_NET_NAMES[i] sits in extras. */
export function metaNetFromExtras(extras: readonly NamedParam[] | undefined, D: number): { net: MetaNet; index: number[] } {
  const list = extras ?? [];
  const index = META_NET_NAMES.map((n) => {
    const i = list.findIndex((p) => p.name === n);
    if (i < 0) throw new Error(`CoCoOp: the context has no '${n}' (the Meta-Net is initialized with initMetaNet)`);
    return i;
  });
  const other = list.find((p) => !(META_NET_NAMES as readonly string[]).includes(p.name));
  if (other) throw new Error(`CoCoOp: the context carries '${other.name}', which is not a Meta-Net tensor`);
  const [w1, b1, w2, b2] = index.map((i) => list[i]);
  const H = w1.shape[0];
  const E = w1.shape[1];
  const ok =
    w1.shape.length === 2 && b1.shape.join() === `${H}` && w2.shape.join() === `${D},${H}` && b2.shape.join() === `${D}` &&
    w1.data.length === H * E && b1.data.length === H && w2.data.length === D * H && b2.data.length === D;
  if (!ok) {
    throw new RangeError(
      `CoCoOp: Meta-Net shapes [${w1.shape}], [${b1.shape}], [${w2.shape}], [${b2.shape}] do not chain E → H → D = ${D}`,
    );
  }
  return { net: { E, H, D, w1: w1.data, b1: b1.data, w2: w2.data, b2: b2.data }, index };
}

export interface MetaNetForward {
  /** Pre-activation W1·f + b1, [B, H]; its sign gates the backward. */
  h: Float64Array;
  /** π, [B, D]. */
  pi: Float64Array;
  /** The MLP's own record (mlp.ts) for the backward. */
  mlp: MlpForward;
}

export function metaNetForward(net: MetaNet, x: ArrayLike<number>, B: number): MetaNetForward {
  const { E } = net;
  if (x.length !== B * E) throw new RangeError(`CoCoOp: ${x.length} image-feature values, expected B·E = ${B}·${E}`);
  const mlp = mlpForward(net, x, B, 'relu');
  return { h: mlp.pre, pi: mlp.out, mlp };
}

export type MetaNetGrads = MlpGrads;

/** d loss / d each Meta-Net tensor from d loss / d π [B, D], summed over the batch. ReLU's gradient at 0 is 0, as torch's. */
export function metaNetBackward(net: MetaNet, x: ArrayLike<number>, fwd: MetaNetForward, dPi: ArrayLike<number>, B: number): MetaNetGrads {
  return mlpBackward(net, x, fwd.mlp, dPi, B, 'relu');
}

/** [B·K, M, D]: row b·K + k is ctx + π_b (the same for every class of image b). */
export function perRowContext(ctx: ArrayLike<number>, pi: ArrayLike<number>, B: number, K: number, M: number, D: number): Float32Array {
  const out = new Float32Array(B * K * M * D);
  const row = new Float32Array(M * D);
  for (let b = 0; b < B; b++) {
    for (let m = 0; m < M; m++) for (let d = 0; d < D; d++) row[m * D + d] = ctx[m * D + d] + pi[b * D + d];
    for (let k = 0; k < K; k++) out.set(row, (b * K + k) * M * D);
  }
  return out;
}

export interface CocoopConfig {
  /** K. */
  nClasses: number;
  /** E, the image and text feature width (the Meta-Net's input). */
  dim: number;
  /** exp(logit_scale). */
  logitScale: number;
  /** Rows per tower call in cocoopLogits; COCOOP_EVAL_ROWS by default. */
  evalRows?: number;
}

function checkContext(ctx: ContextVectors): void {
  if (ctx.cscClasses > 0) throw new Error('CoCoOp has one shared context (the official PromptLearner has no class-specific option)');
}

/**
 * One CoCoOp step on a batch of normalized image features [B·E]: the loss, logits [B, K], d loss / d ctx and the
 * Meta-Net's gradients in gradExtras (the order of ctx.extras). One tower call runs all B·K rows.
 */
export async function cocoopLossAndGrad(
  cfg: CocoopConfig,
  ctx: ContextVectors,
  features: Float32Array,
  labels: Int32Array,
  tower: TowerStepFn,
): Promise<LossAndGrad> {
  checkContext(ctx);
  const { nClasses: K, dim: E, logitScale: scale } = cfg;
  const { nCtx: M, dim: D } = ctx;
  const B = labels.length;
  const { net, index } = metaNetFromExtras(ctx.extras, D);
  if (net.E !== E) throw new RangeError(`CoCoOp: the Meta-Net reads ${net.E} values, the image features have ${E}`);
  const fwd = metaNetForward(net, features, B);
  const r = await tower({
    ctx: perRowContext(ctx.data, fwd.pi, B, K, M, D),
    repeat: B,
    ctxPerRow: true,
    featureLoss: (txt) => featureCrossEntropy(features, txt, labels, { B, K, E, scale, R: B * K, row: (b, k) => b * K + k }),
  });
  const rows = r.gradCtx;
  if (!rows || rows.length !== B * K * M * D) throw new Error(`CoCoOp: the tower returned no per-row context gradient of ${B}·${K}·${M}·${D} values`);
  if (!r.logits) throw new Error('CoCoOp: the tower returned no logits');
  // Σ over rows for the shared context; Σ over image b's rows and positions for π_b.
  const gradCtx64 = new Float64Array(M * D);
  const dPi = new Float64Array(B * D);
  for (let b = 0; b < B; b++) {
    for (let k = 0; k < K; k++) {
      const base = (b * K + k) * M * D;
      for (let m = 0; m < M; m++) {
        for (let d = 0; d < D; d++) {
          const g = rows[base + m * D + d];
          gradCtx64[m * D + d] += g;
          dPi[b * D + d] += g;
        }
      }
    }
  }
  const gm = metaNetBackward(net, features, fwd, dPi, B);
  const gradExtras: Float32Array[] = [];
  [gm.w1, gm.b1, gm.w2, gm.b2].forEach((g, i) => (gradExtras[index[i]] = Float32Array.from(g)));
  return { loss: r.loss, logits: r.logits, gradCtx: Float32Array.from(gradCtx64), gradExtras };
}

/** Logits [N, K] of normalized image features [N·E] with each image's own prompts (forward only, images in groups). */
export async function cocoopLogits(cfg: CocoopConfig, ctx: ContextVectors, features: Float32Array, tower: TowerStepFn): Promise<Float32Array> {
  checkContext(ctx);
  const { nClasses: K, dim: E, logitScale: scale } = cfg;
  const { nCtx: M, dim: D } = ctx;
  if (features.length % E !== 0) throw new RangeError(`CoCoOp: ${features.length} image-feature values is not a multiple of E = ${E}`);
  const N = features.length / E;
  const { net } = metaNetFromExtras(ctx.extras, D);
  const group = Math.max(1, Math.floor((cfg.evalRows ?? COCOOP_EVAL_ROWS) / K));
  const out = new Float32Array(N * K);
  for (let start = 0; start < N; start += group) {
    const B = Math.min(group, N - start);
    const img = features.subarray(start * E, (start + B) * E);
    const { pi } = metaNetForward(net, img, B);
    const r = await tower({ ctx: perRowContext(ctx.data, pi, B, K, M, D), repeat: B, ctxPerRow: true });
    out.set(featureLogits(img, r.textFeatures, { B, K, E, scale, row: (b, k) => b * K + k }), start * K);
  }
  return out;
}
