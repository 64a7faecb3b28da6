/**
 * LP++, a linear probe blended with the text classifier (Huang et al., CVPR 2024; official code
 * FereshteShakeri/FewShot-CLIP-Strong-Baseline, methods/linear_probe_p2.py and methods/utils.py):
 *
 *   logits = F Wᵀ + b + α ⊙ (F T),   F [N, E] the support features, T [C, E] the text features
 *
 * W starts at the class sums of the features (compute_centroids), b at nn.Linear's default (uniform ±1/√E,
 * seeded), α [C] at 250 × the mean over (class c, class k) of class c's mean similarity f·t_k. The step sizes come
 * from the data: lr_w = 4N / λ_max(FᵀF) (SGD, momentum 0.9, on W and b, full batch), lr_α = N / (4 max_k Σ_i
 * (f_iᵀt_k)²), plain gradient steps on α every 10 epochs with α's gradient as PyTorch holds it there: never zeroed,
 * so summed over every epoch so far. 300 epochs. The official keeps the epoch with the best few-shot validation
 * accuracy (the last such, ties included); with no validation split this keeps the last epoch and says so.
 */
import { crossEntropy, linearInit, matmulT, type AdapterEpoch } from './cosine-head';
import { argmaxRows, accuracy } from './metrics';
import { STREAM } from './random';

export const LPPP_DEFAULTS = Object.freeze({
  epochs: 300,
  momentum: 0.9,
  alphaInitScale: 250,
  alphaEvery: 10,
});

export interface LpPlusPlusModel {
  /** W [C, E]. */
  weights: Float32Array;
  bias: Float32Array;
  /** α [C]. */
  alpha: Float32Array;
}

export function lpPlusPlusLogits(features: ArrayLike<number>, text: ArrayLike<number>, m: LpPlusPlusModel, dim: number): Float32Array {
  const B = features.length / dim;
  const C = m.bias.length;
  const v = matmulT(features, m.weights, B, C, dim);
  const t = matmulT(features, text, B, C, dim);
  return Float32Array.from(v, (x, i) => x + m.bias[i % C] + m.alpha[i % C] * t[i]);
}

/** The largest eigenvalue of FᵀF (= that of F Fᵀ), by power iteration on the smaller of the two Gram matrices. */
export function largestEigenvalue(F: ArrayLike<number>, N: number, E: number): number {
  const small = Math.min(N, E);
  const G = new Float64Array(small * small);
  if (N <= E) {
    const g = matmulT(F, F, N, N, E);
    G.set(g);
  } else {
    for (let i = 0; i < N; i++)
      for (let a = 0; a < E; a++) {
        const fa = F[i * E + a];
        if (fa === 0) continue;
        for (let b = 0; b < E; b++) G[a * E + b] += fa * F[i * E + b];
      }
  }
  let v = new Float64Array(small).fill(1 / Math.sqrt(small));
  let lambda = 0;
  for (let it = 0; it < 10000; it++) {
    const w = new Float64Array(small);
    for (let r = 0; r < small; r++) {
      let s = 0;
      for (let c = 0; c < small; c++) s += G[r * small + c] * v[c];
      w[r] = s;
    }
    let nrm = 0;
    for (const x of w) nrm += x * x;
    nrm = Math.sqrt(nrm);
    if (nrm === 0) return 0;
    const next = nrm;
    v = w.map((x) => x / nrm);
    if (Math.abs(next - lambda) <= 1e-13 * next) return next;
    lambda = next;
  }
  return lambda;
}

export interface LpPlusPlusSetup {
  weights: Float64Array;
  alpha0: number;
  lrW: number;
  lrAlpha: number;
}

/** The data-driven start: class sums, α₀, lr_w and lr_α. */
export function lpPlusPlusSetup(F: ArrayLike<number>, labels: ArrayLike<number>, text: ArrayLike<number>, dim: number, nClasses: number): LpPlusPlusSetup {
  const N = labels.length;
  const C = nClasses;
  const W = new Float64Array(C * dim);
  const count = new Float64Array(C);
  for (let i = 0; i < N; i++) {
    count[labels[i]]++;
    for (let e = 0; e < dim; e++) W[labels[i] * dim + e] += F[i * dim + e];
  }
  const ft = matmulT(F, text, N, C, dim);
  const centroid = new Float64Array(C * C);
  for (let i = 0; i < N; i++) for (let k = 0; k < C; k++) centroid[labels[i] * C + k] += ft[i * C + k] / count[labels[i]];
  const alpha0 = (LPPP_DEFAULTS.alphaInitScale * centroid.reduce((a, b) => a + b, 0)) / (C * C);
  const colSq = new Float64Array(C);
  for (let i = 0; i < N; i++) for (let k = 0; k < C; k++) colSq[k] += ft[i * C + k] ** 2;
  return { weights: W, alpha0, lrW: (4 * N) / largestEigenvalue(F, N, dim), lrAlpha: N / (4 * Math.max(...colSq)) };
}

export interface LpPlusPlusOptions {
  /** [N, E] support features. */
  features: ArrayLike<number>;
  labels: ArrayLike<number>;
  /** T [C, E]. */
  text: ArrayLike<number>;
  dim: number;
  nClasses: number;
  epochs?: number;
  /** The few-shot validation split: picks the epoch. */
  val?: { features: ArrayLike<number>; labels: ArrayLike<number> } | null;
  /** b's start; by default nn.Linear's uniform ±1/√E from the seed. */
  bias?: ArrayLike<number>;
  seed?: number;
}

export interface LpPlusPlusResult {
  model: LpPlusPlusModel;
  setup: LpPlusPlusSetup;
  /** 1-based epoch kept, and why. */
  epoch: number;
  selectedBy: 'validation' | 'last epoch';
  valAcc: number | null;
  losses: number[];
}

export function lpPlusPlus(o: LpPlusPlusOptions, onEpoch?: (e: AdapterEpoch) => void): LpPlusPlusResult {
  const { features: F, text, dim: E, nClasses: C } = o;
  const labels = Int32Array.from(o.labels);
  const N = labels.length;
  if (F.length !== N * E) throw new RangeError(`LP++: ${F.length} feature values, expected ${N}×${E}`);
  if (text.length !== C * E) throw new RangeError(`LP++: ${text.length} text feature values, expected ${C}×${E}`);
  for (let c = 0; c < C; c++) if (!labels.includes(c)) throw new RangeError(`LP++: class ${c} has no support image (its start, the class sum, would be zero)`);
  const epochs = o.epochs ?? LPPP_DEFAULTS.epochs;
  const setup = lpPlusPlusSetup(F, labels, text, E, C);
  const W = Float64Array.from(setup.weights);
  const b = o.bias ? Float64Array.from(o.bias) : linearInit(C, E, o.seed ?? 1, STREAM.adapterInit);
  const alpha = new Float64Array(C).fill(setup.alpha0);
  const alphaGrad = new Float64Array(C);
  const ft = matmulT(F, text, N, C, E);
  const bufW = new Float64Array(W.length);
  const bufB = new Float64Array(C);
  const m = LPPP_DEFAULTS.momentum;
  const snapshot = (): LpPlusPlusModel => ({ weights: Float32Array.from(W), bias: Float32Array.from(b), alpha: Float32Array.from(alpha) });
  const valFt = o.val ? matmulT(o.val.features, text, o.val.labels.length, C, E) : null;
  let best: LpPlusPlusModel = snapshot();
  let bestEpoch = epochs;
  let bestAcc = -1;
  const losses: number[] = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    const vis = matmulT(F, W, N, C, E);
    const logits = vis.map((x, i) => x + b[i % C] + alpha[i % C] * ft[i]);
    const ce = crossEntropy(logits, labels, C);
    losses.push(ce.loss);
    const gW = new Float64Array(C * E);
    const gB = new Float64Array(C);
    for (let i = 0; i < N; i++)
      for (let c = 0; c < C; c++) {
        const g = ce.dlogits[i * C + c];
        gB[c] += g;
        alphaGrad[c] += g * ft[i * C + c];
        for (let e = 0; e < E; e++) gW[c * E + e] += g * F[i * E + e];
      }
    // torch.optim.SGD with momentum (first step: buffer = gradient), constant lr_w.
    for (let j = 0; j < W.length; j++) {
      bufW[j] = epoch === 0 ? gW[j] : m * bufW[j] + gW[j];
      W[j] -= setup.lrW * bufW[j];
    }
    for (let c = 0; c < C; c++) {
      bufB[c] = epoch === 0 ? gB[c] : m * bufB[c] + gB[c];
      b[c] -= setup.lrW * bufB[c];
    }
    if ((epoch + 1) % LPPP_DEFAULTS.alphaEvery === 0) for (let c = 0; c < C; c++) alpha[c] -= setup.lrAlpha * alphaGrad[c];
    if (o.val && valFt) {
      const nv = o.val.labels.length;
      const vl = matmulT(o.val.features, W, nv, C, E).map((x, i) => x + b[i % C] + alpha[i % C] * valFt[i]);
      const acc = accuracy(argmaxRows(vl, nv, C), o.val.labels);
      if (acc >= bestAcc) {
        bestAcc = acc;
        bestEpoch = epoch + 1;
        best = snapshot();
      }
    }
    onEpoch?.({ epoch: epoch + 1, epochs, loss: ce.loss, losses: [ce.loss], trainAcc: ce.correct / N, lr: setup.lrW });
  }
  if (!o.val) best = snapshot();
  return { model: best, setup, epoch: bestEpoch, selectedBy: o.val ? 'validation' : 'last epoch', valAcc: o.val ? bestAcc : null, losses };
}
