/**
 * CLIP-Adapter (Gao et al., IJCV 2023; official code gaopengcuhk/CLIP-Adapter, clip_adapter.py): a two-layer
 * bottleneck MLP on the image features, blended with them by a residual ratio,
 *
 *   f' = 0.2 · ReLU(W₂ ReLU(W₁ f)) + 0.8 · f,   W₁ [E/4, E], W₂ [E, E/4], no bias
 *   logits(f) = 100 · (f'/‖f'‖)·(t_c/‖t_c‖)ᵀ,   t the frozen zero-shot text features
 *
 * W₁, W₂ start as nn.Linear's default (uniform ±1/√fan_in), seeded. The official repository gives the model but
 * not its training configuration, so this trains with CoOp's: SGD lr 0.002, momentum 0.9, weight decay 5e-4,
 * batch 32, CoOp's epochs by shots (50/100/200), one constant warm-up epoch at 1e-5 then cosine, one augmented
 * view per image per epoch. Last epoch kept.
 */
import { AdapterEpoch, minibatchEpochs, crossEntropy, drain, linearInit, matmulT, matmulTN, normalizeRows, normalizeRowsBackward, Sgd } from './cosine-head';
import { STREAM } from './random';
import { epochPlan, type Batch } from './sampler';
import { epochsForShots } from './schedule';
import type { TrainingSet } from './trainer';

export const CLIP_ADAPTER_DEFAULTS = Object.freeze({
  ratio: 0.2,
  reduction: 4,
  lr: 0.002,
  momentum: 0.9,
  weightDecay: 5e-4,
  batchSize: 32,
  warmupEpochs: 1,
  warmupLr: 1e-5,
  scale: 100,
});

export const clipAdapterEpochs = epochsForShots;

export interface ClipAdapterModel {
  /** W₁ [H, E] and W₂ [E, H], H = E / reduction. */
  w1: Float32Array;
  w2: Float32Array;
  hidden: number;
  ratio: number;
  scale: number;
}

interface Forward {
  h: Float64Array;
  a: Float64Array;
  out: Float64Array;
}

function adapterForward(f: ArrayLike<number>, w1: ArrayLike<number>, w2: ArrayLike<number>, B: number, E: number, H: number, ratio: number): Forward {
  const h = matmulT(f, w1, B, H, E).map((x) => (x > 0 ? x : 0));
  const a = matmulT(h, w2, B, E, H).map((x) => (x > 0 ? x : 0));
  const out = new Float64Array(B * E);
  for (let i = 0; i < out.length; i++) out[i] = ratio * a[i] + (1 - ratio) * f[i];
  return { h, a, out };
}

/** The adapted features f' [B, E] (not normalized). */
export function clipAdapterFeatures(features: ArrayLike<number>, m: Pick<ClipAdapterModel, 'w1' | 'w2' | 'hidden' | 'ratio'>, dim: number): Float64Array {
  return adapterForward(features, m.w1, m.w2, features.length / dim, dim, m.hidden, m.ratio).out;
}

export function clipAdapterLogits(features: ArrayLike<number>, text: ArrayLike<number>, m: ClipAdapterModel, dim: number): Float32Array {
  const B = features.length / dim;
  const C = text.length / dim;
  const f = normalizeRows(clipAdapterFeatures(features, m, dim), B, dim).y;
  const t = normalizeRows(text, C, dim).y;
  return Float32Array.from(matmulT(f, t, B, C, dim), (x) => x * m.scale);
}

/** nn.Linear's default initialisation of W₁ and W₂, from a seed. */
export function clipAdapterInit(dim: number, seed: number, reduction: number = CLIP_ADAPTER_DEFAULTS.reduction): { w1: Float32Array; w2: Float32Array; hidden: number } {
  const H = Math.floor(dim / reduction);
  if (H < 1) throw new RangeError(`CLIP-Adapter: feature size ${dim} is too small for a 1/${reduction} bottleneck`);
  return {
    w1: Float32Array.from(linearInit(H * dim, dim, seed, STREAM.adapterInit)),
    w2: Float32Array.from(linearInit(dim * H, H, seed + 1, STREAM.adapterInit)),
    hidden: H,
  };
}

/** Cross-entropy on one batch and its gradients in W₁ and W₂; `tn` the normalized text features [C, E]. */
export function clipAdapterLossAndGrad(w1: ArrayLike<number>, w2: ArrayLike<number>, H: number, features: ArrayLike<number>, y: ArrayLike<number>, tn: ArrayLike<number>, E: number, ratio: number, scale: number): { loss: number; correct: number; gW1: Float64Array; gW2: Float64Array } {
  const B = y.length;
  const C = tn.length / E;
  const fw = adapterForward(features, w1, w2, B, E, H, ratio);
  const fn = normalizeRows(fw.out, B, E);
  const ce = crossEntropy(matmulT(fn.y, tn, B, C, E).map((x) => x * scale), y, C);
  // d f̂' = s · G · t̂, then through the normalization, the blend and the two ReLU layers.
  const dfn = matmulTN(Float64Array.from({ length: C * B }, (_, k) => ce.dlogits[(k % B) * C + Math.floor(k / B)] * scale), tn, C, B, E);
  const dOut = normalizeRowsBackward(dfn, fn.y, fn.norms, E);
  const dz2 = dOut.map((d, i) => (fw.a[i] > 0 ? ratio * d : 0));
  const gW2 = matmulTN(dz2, fw.h, B, E, H);
  const dh = new Float64Array(B * H);
  for (let b = 0; b < B; b++)
    for (let e = 0; e < E; e++) {
      const d = dz2[b * E + e];
      if (d === 0) continue;
      for (let k = 0; k < H; k++) dh[b * H + k] += d * w2[e * H + k];
    }
  const dz1 = dh.map((d, i) => (fw.h[i] > 0 ? d : 0));
  return { loss: ce.loss, correct: ce.correct, gW1: matmulTN(dz1, features, B, H, E), gW2 };
}

export interface ClipAdapterOptions extends TrainingSet {
  text: Float32Array;
  epochs: number;
  lr?: number;
  batchSize?: number;
  ratio?: number;
  scale?: number;
  seed?: number;
  /** Starting weights; by default clipAdapterInit(dim, seed). */
  init?: { w1: Float32Array; w2: Float32Array; hidden: number };
  plan?: (epoch: number) => Batch[];
}

export function* clipAdapter(o: ClipAdapterOptions): Generator<AdapterEpoch, ClipAdapterModel, void> {
  const { nImages: N, nViews: V, dim: E, nClasses: C, text, epochs } = o;
  const ratio = o.ratio ?? CLIP_ADAPTER_DEFAULTS.ratio;
  const scale = o.scale ?? CLIP_ADAPTER_DEFAULTS.scale;
  const lr0 = o.lr ?? CLIP_ADAPTER_DEFAULTS.lr;
  const batchSize = o.batchSize ?? CLIP_ADAPTER_DEFAULTS.batchSize;
  if (text.length !== C * E) throw new RangeError(`CLIP-Adapter: ${text.length} text feature values, expected ${C}×${E}`);
  const init = o.init ?? clipAdapterInit(E, o.seed ?? 1);
  const H = init.hidden;
  const w1 = Float64Array.from(init.w1);
  const w2 = Float64Array.from(init.w2);
  const t = normalizeRows(text, C, E).y;
  const plan = o.plan ?? ((epoch: number) => epochPlan({ nImages: N, nViews: V, batchSize, seed: o.seed ?? 1, epoch }));
  const opt1 = new Sgd(CLIP_ADAPTER_DEFAULTS.momentum, CLIP_ADAPTER_DEFAULTS.weightDecay);
  const opt2 = new Sgd(CLIP_ADAPTER_DEFAULTS.momentum, CLIP_ADAPTER_DEFAULTS.weightDecay);
  yield* minibatchEpochs(o, { epochs, schedule: { lr: lr0, warmupEpochs: CLIP_ADAPTER_DEFAULTS.warmupEpochs, warmupLr: CLIP_ADAPTER_DEFAULTS.warmupLr }, plan }, (features, y, lr) => {
    const r = clipAdapterLossAndGrad(w1, w2, H, features, y, t, E, ratio, scale);
    opt1.step(w1, r.gW1, lr);
    opt2.step(w2, r.gW2, lr);
    return r;
  });
  return { w1: Float32Array.from(w1), w2: Float32Array.from(w2), hidden: H, ratio, scale };
}

export function trainClipAdapter(o: ClipAdapterOptions, onEpoch?: (e: AdapterEpoch) => void): ClipAdapterModel {
  return drain(clipAdapter(o), onEpoch);
}
