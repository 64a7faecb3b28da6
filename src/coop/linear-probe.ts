/**
 * The linear-probe baseline CoOp is compared against (CoOp §4.1), as tools/toy-clip/demo.py linear_probe computes
 * it: multinomial logistic regression on the cached, L2-normalized image features with logits = 10·x·W + b,
 * objective mean cross-entropy + λ·‖W‖² (b unpenalized), minimized by L-BFGS (lbfgs.ts) from zeros, 200 iterations
 * at most. λ comes from {1e-4, 1e-3, 1e-2, 1e-1} by 2-fold cross-validation whose folds take every other image of
 * each class; with fewer than 2·K images there is nothing to validate on and λ = 1e-3.
 */
import { lbfgs, type LbfgsOptions } from './lbfgs';
import { argmaxRows, accuracy } from './metrics';

export const PROBE_LAMBDAS: readonly number[] = [1e-4, 1e-3, 1e-2, 1e-1];
export const PROBE_DEFAULT_LAMBDA = 1e-3;
/** Fixed logit scale on the features, so that the λ grid suits unit-norm inputs. */
export const PROBE_FEATURE_SCALE = 10;

export interface LinearProbeModel {
  /** [E, K] row-major. */
  weights: Float32Array;
  bias: Float32Array;
  dim: number;
  nClasses: number;
  lambda: number;
}

export interface FitResult {
  model: LinearProbeModel;
  loss: number;
  iterations: number;
  converged: boolean;
}

/** Objective and gradient over θ = [W (E·K), b (K)]. */
function objective(x: ArrayLike<number>, y: ArrayLike<number>, dim: number, k: number, lambda: number) {
  const n = y.length;
  const logits = new Float64Array(k);
  return (theta: Float64Array, grad: Float64Array): number => {
    grad.fill(0);
    const bOff = dim * k;
    let loss = 0;
    for (let r = 0; r < n; r++) {
      const row = r * dim;
      for (let c = 0; c < k; c++) logits[c] = theta[bOff + c];
      for (let e = 0; e < dim; e++) {
        const xv = PROBE_FEATURE_SCALE * x[row + e];
        if (xv === 0) continue;
        const wRow = e * k;
        for (let c = 0; c < k; c++) logits[c] += xv * theta[wRow + c];
      }
      let max = -Infinity;
      for (let c = 0; c < k; c++) max = Math.max(max, logits[c]);
      let z = 0;
      for (let c = 0; c < k; c++) z += Math.exp(logits[c] - max);
      const lse = max + Math.log(z);
      loss += lse - logits[y[r]];
      // dL/dlogits = (softmax − onehot) / n, reusing `logits` for it.
      for (let c = 0; c < k; c++) logits[c] = Math.exp(logits[c] - lse) / n;
      logits[y[r]] -= 1 / n;
      for (let c = 0; c < k; c++) grad[bOff + c] += logits[c];
      for (let e = 0; e < dim; e++) {
        const xv = PROBE_FEATURE_SCALE * x[row + e];
        if (xv === 0) continue;
        const wRow = e * k;
        for (let c = 0; c < k; c++) grad[wRow + c] += xv * logits[c];
      }
    }
    loss /= n;
    for (let i = 0; i < bOff; i++) {
      loss += lambda * theta[i] * theta[i];
      grad[i] += 2 * lambda * theta[i];
    }
    return loss;
  };
}

/** Fits on x: [N, E] row-major, y: N labels in 0..K−1. */
export function fitLinearProbe(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  dim: number,
  nClasses: number,
  lambda: number,
  opts: LbfgsOptions = {},
): FitResult {
  if (x.length !== y.length * dim) throw new RangeError(`features have ${x.length} values, expected ${y.length}×${dim}`);
  if (y.length === 0) throw new RangeError('no training images for the linear probe');
  const res = lbfgs(objective(x, y, dim, nClasses, lambda), new Float64Array(dim * nClasses + nClasses), opts);
  return {
    model: {
      weights: Float32Array.from(res.x.subarray(0, dim * nClasses)),
      bias: Float32Array.from(res.x.subarray(dim * nClasses)),
      dim,
      nClasses,
      lambda,
    },
    loss: res.f,
    iterations: res.iterations,
    converged: res.converged,
  };
}

/** Scores 10·x·W + b, [N, K] row-major. */
export function probeScores(model: LinearProbeModel, x: ArrayLike<number>): Float32Array {
  const { dim, nClasses: k, weights, bias } = model;
  const n = x.length / dim;
  if (!Number.isInteger(n)) throw new RangeError(`features have ${x.length} values, not a multiple of ${dim}`);
  const out = new Float32Array(n * k);
  const acc = new Float64Array(k);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < k; c++) acc[c] = bias[c];
    for (let e = 0; e < dim; e++) {
      const xv = PROBE_FEATURE_SCALE * x[r * dim + e];
      for (let c = 0; c < k; c++) acc[c] += xv * weights[e * k + c];
    }
    out.set(acc, r * k);
  }
  return out;
}

export function probePredict(model: LinearProbeModel, x: ArrayLike<number>): Int32Array {
  return argmaxRows(probeScores(model, x), x.length / model.dim, model.nClasses);
}

/** demo.py's folds: within each class, images alternate between fold A (true) and fold B, in their given order. */
export function alternatingFolds(y: ArrayLike<number>, nClasses: number): boolean[] {
  const seen = new Array<number>(nClasses).fill(0);
  return Array.from(y, (c) => seen[c]++ % 2 === 0);
}

function subset(x: ArrayLike<number>, y: ArrayLike<number>, dim: number, keep: (i: number) => boolean) {
  const idx = Array.from({ length: y.length }, (_, i) => i).filter(keep);
  const xs = new Float32Array(idx.length * dim);
  idx.forEach((i, r) => {
    for (let e = 0; e < dim; e++) xs[r * dim + e] = x[i * dim + e];
  });
  return { x: xs, y: Int32Array.from(idx, (i) => y[i]) };
}

export interface LinearProbeResult extends FitResult {
  /** Summed accuracy of the two folds per λ, in PROBE_LAMBDAS order; empty when λ was not cross-validated. */
  cvScores: number[];
}

/** λ by 2-fold CV (first best wins ties, as numpy's argmax), then a fit on all images. */
export function linearProbe(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  dim: number,
  nClasses: number,
  { lambdas = PROBE_LAMBDAS, lbfgs: lbfgsOpts = {} }: { lambdas?: readonly number[]; lbfgs?: LbfgsOptions } = {},
): LinearProbeResult {
  let best = PROBE_DEFAULT_LAMBDA;
  const cvScores: number[] = [];
  if (y.length >= 2 * nClasses) {
    const fold = alternatingFolds(y, nClasses);
    const a = subset(x, y, dim, (i) => fold[i]);
    const b = subset(x, y, dim, (i) => !fold[i]);
    for (const lambda of lambdas) {
      let score = 0;
      for (const [tr, te] of [[a, b], [b, a]]) {
        const m = fitLinearProbe(tr.x, tr.y, dim, nClasses, lambda, lbfgsOpts).model;
        score += accuracy(probePredict(m, te.x), te.y);
      }
      cvScores.push(score);
    }
    best = lambdas[cvScores.indexOf(Math.max(...cvScores))];
  }
  return { ...fitLinearProbe(x, y, dim, nClasses, best, lbfgsOpts), cvScores };
}
