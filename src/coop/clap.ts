/**
 * CLAP, a class-adaptive linear probe (Silva-Rodríguez et al., CVPR 2024; official code jusiro/CLAP,
 * trainers/adapters.py with its configs/trainers/SGD_lr1e-1_B256_ep300.yaml):
 *
 *   W [C, E] starts at the class anchors t (the text features, as the official: not normalized)
 *   logits(f) = 100 · (f/‖f‖)·(W_c/‖W_c‖)ᵀ
 *   loss = CE + (1/C) Σ_c λ_c ‖W_c − t_c‖²,  λ_c = the mean zero-shot softmax probability of class c over its own
 *          support views (init_lagrangian_multipliers; fixed during training)
 *
 * SGD (lr 0.1, Dassl's momentum 0.9, no weight decay), batch 256, 300 epochs, one constant warm-up epoch at 1e-5
 * then cosine, stepped per epoch; every augmented view of every support image is a sample and an epoch takes as many
 * batches as the image loader would (pooledViewsPlan). The last epoch is kept (the official has no validation).
 */
import { AdapterEpoch, minibatchEpochs, crossEntropy, drain, matmulT, matmulTN, normalizeRows, normalizeRowsBackward, pooledViewsPlan, Sgd } from './cosine-head';
import { STREAM } from './random';
import type { Batch } from './sampler';
import type { TrainingSet } from './trainer';

export const CLAP_DEFAULTS = Object.freeze({
  lr: 0.1,
  momentum: 0.9,
  weightDecay: 0,
  batchSize: 256,
  epochs: 300,
  warmupEpochs: 1,
  warmupLr: 1e-5,
  /** CLIP's logit scale (exp of its learned log-scale, 100). */
  scale: 100,
  /** Augmented views per support image in the official (epochs_aumentation). */
  views: 20,
});

/** logits = scale · f̂ · Ŵᵀ, [B, C]. */
export function clapLogits(features: ArrayLike<number>, weights: ArrayLike<number>, dim: number, scale: number = CLAP_DEFAULTS.scale): Float32Array {
  const B = features.length / dim;
  const C = weights.length / dim;
  const f = normalizeRows(features, B, dim).y;
  const w = normalizeRows(weights, C, dim).y;
  return Float32Array.from(matmulT(f, w, B, C, dim), (x) => x * scale);
}

/** λ_c: the mean over class c's support views of the zero-shot softmax probability of c (the official's 'l2' constraint). */
export function clapMultipliers(features: ArrayLike<number>, labels: ArrayLike<number>, anchors: ArrayLike<number>, dim: number, nClasses: number, scale: number = CLAP_DEFAULTS.scale): Float64Array {
  const logits = clapLogits(features, anchors, dim, scale);
  const sum = new Float64Array(nClasses);
  const count = new Float64Array(nClasses);
  for (let i = 0; i < labels.length; i++) {
    const row = logits.subarray(i * nClasses, (i + 1) * nClasses);
    let mx = -Infinity;
    for (const x of row) mx = Math.max(mx, x);
    let z = 0;
    for (const x of row) z += Math.exp(x - mx);
    sum[labels[i]] += Math.exp(row[labels[i]] - mx) / z;
    count[labels[i]]++;
  }
  return sum.map((s, c) => (count[c] ? s / count[c] : 0));
}

/** The loss CE + (1/C) Σ_c λ_c ‖W_c − t_c‖² on one batch and its gradient in W. */
export function clapLossAndGrad(W: ArrayLike<number>, features: ArrayLike<number>, y: ArrayLike<number>, anchors: ArrayLike<number>, lambda: ArrayLike<number>, E: number, scale: number = CLAP_DEFAULTS.scale): { loss: number; correct: number; grad: Float64Array } {
  const B = y.length;
  const C = lambda.length;
  const f = normalizeRows(features, B, E).y;
  const w = normalizeRows(W, C, E);
  const ce = crossEntropy(matmulT(f, w.y, B, C, E).map((x) => x * scale), y, C);
  let penalty = 0;
  const grad = normalizeRowsBackward(matmulTN(ce.dlogits.map((x) => x * scale), f, B, C, E), w.y, w.norms, E);
  for (let c = 0; c < C; c++)
    for (let e = 0; e < E; e++) {
      const d = W[c * E + e] - anchors[c * E + e];
      penalty += (lambda[c] * d * d) / C;
      grad[c * E + e] += (2 * lambda[c] * d) / C;
    }
  return { loss: ce.loss + penalty, correct: ce.correct, grad };
}

export interface ClapOptions extends TrainingSet {
  /** The class anchors t [C, E]. */
  anchors: Float32Array;
  lr?: number;
  epochs?: number;
  batchSize?: number;
  scale?: number;
  seed?: number;
  /** The batches of an epoch; by default pooledViewsPlan's. */
  plan?: (epoch: number) => Batch[];
}

export interface ClapModel {
  weights: Float32Array;
  multipliers: Float64Array;
  scale: number;
}

/** CLAP's training, one epoch per yielded report; returns the trained W [C, E] and the multipliers used. */
export function* clap(o: ClapOptions): Generator<AdapterEpoch, ClapModel, void> {
  const { viewFeatures, nImages: N, nViews: V, dim: E, nClasses: C, anchors } = o;
  const labels = Int32Array.from(o.labels);
  const scale = o.scale ?? CLAP_DEFAULTS.scale;
  const epochs = o.epochs ?? CLAP_DEFAULTS.epochs;
  const batchSize = o.batchSize ?? CLAP_DEFAULTS.batchSize;
  const lr0 = o.lr ?? CLAP_DEFAULTS.lr;
  if (anchors.length !== C * E) throw new RangeError(`CLAP: ${anchors.length} anchor values, expected ${C}×${E}`);
  if (viewFeatures.length !== N * V * E) throw new RangeError(`CLAP: ${viewFeatures.length} view feature values, expected ${N}×${V}×${E}`);
  const viewLabels = Int32Array.from({ length: N * V }, (_, k) => labels[Math.floor(k / V)]);
  const lambda = clapMultipliers(viewFeatures, viewLabels, anchors, E, C, scale);
  const plan = o.plan ?? ((epoch: number) => pooledViewsPlan(N, V, batchSize, o.seed ?? 1, epoch, STREAM.adapterSampler));
  const W = Float64Array.from(anchors);
  const opt = new Sgd(CLAP_DEFAULTS.momentum, CLAP_DEFAULTS.weightDecay);
  yield* minibatchEpochs(o, { epochs, schedule: { lr: lr0, warmupEpochs: CLAP_DEFAULTS.warmupEpochs, warmupLr: CLAP_DEFAULTS.warmupLr }, plan }, (features, y, lr) => {
    const r = clapLossAndGrad(W, features, y, anchors, lambda, E, scale);
    opt.step(W, r.grad, lr);
    return r;
  });
  return { weights: Float32Array.from(W), multipliers: lambda, scale };
}

export function trainClap(o: ClapOptions, onEpoch?: (e: AdapterEpoch) => void): ClapModel {
  return drain(clap(o), onEpoch);
}
