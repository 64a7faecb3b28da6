/**
 * L-BFGS for the linear probe, shaped after torch.optim.LBFGS as demo.py calls it (lr 1, max_iter 200, history
 * 100, tolerance_grad 1e-7, tolerance_change 1e-9; first trial step min(1, 1/‖g‖₁)).
 *
 * One difference: PyTorch was given line_search_fn="strong_wolfe"; here the line search is Armijo backtracking
 * (halving from the trial step), and a pair (s, y) enters the history only when sᵀy > 0, which is what the Wolfe
 * curvature condition would have guaranteed. The probe's objective is smooth and convex, so both reach the same
 * minimum; iteration counts differ.
 */

export interface LbfgsOptions {
  maxIter?: number;
  history?: number;
  toleranceGrad?: number;
  toleranceChange?: number;
}

export interface LbfgsResult {
  x: Float64Array;
  f: number;
  iterations: number;
  /** Stopped by a tolerance rather than by maxIter or a failed line search. */
  converged: boolean;
}

/** `fg` returns f(x) and writes ∇f(x) into `grad`. */
export type ObjectiveFn = (x: Float64Array, grad: Float64Array) => number;

const dot = (a: Float64Array, b: Float64Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};
const maxAbs = (a: Float64Array): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
};

export function lbfgs(fg: ObjectiveFn, x0: Float64Array, opts: LbfgsOptions = {}): LbfgsResult {
  const { maxIter = 200, history = 100, toleranceGrad = 1e-7, toleranceChange = 1e-9 } = opts;
  const n = x0.length;
  let x = x0.slice();
  let g = new Float64Array(n);
  let f = fg(x, g);
  if (maxAbs(g) <= toleranceGrad) return { x, f, iterations: 0, converged: true };
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const d = new Float64Array(n);
  const alpha = new Float64Array(history);
  const xNew = new Float64Array(n);
  let gNew = new Float64Array(n);
  for (let iter = 1; iter <= maxIter; iter++) {
    // Two-loop recursion: d = −H·g.
    for (let i = 0; i < n; i++) d[i] = -g[i];
    for (let k = S.length - 1; k >= 0; k--) {
      alpha[k] = rho[k] * dot(S[k], d);
      for (let i = 0; i < n; i++) d[i] -= alpha[k] * Y[k][i];
    }
    if (S.length) {
      const last = S.length - 1;
      const gamma = dot(S[last], Y[last]) / dot(Y[last], Y[last]);
      for (let i = 0; i < n; i++) d[i] *= gamma;
    }
    for (let k = 0; k < S.length; k++) {
      const beta = rho[k] * dot(Y[k], d);
      for (let i = 0; i < n; i++) d[i] += (alpha[k] - beta) * S[k][i];
    }
    let gtd = dot(g, d);
    if (gtd >= 0) {
      // Not a descent direction (numerical trouble in the history): restart from steepest descent.
      S.length = Y.length = rho.length = 0;
      for (let i = 0; i < n; i++) d[i] = -g[i];
      gtd = dot(g, d);
    }
    if (gtd > -toleranceChange) return { x, f, iterations: iter - 1, converged: true };
    let t = iter === 1 ? Math.min(1, 1 / g.reduce((s, v) => s + Math.abs(v), 0)) : 1;
    let fNew = NaN;
    let accepted = false;
    for (let tries = 0; tries < 40; tries++) {
      for (let i = 0; i < n; i++) xNew[i] = x[i] + t * d[i];
      fNew = fg(xNew, gNew);
      if (Number.isFinite(fNew) && fNew <= f + 1e-4 * t * gtd) {
        accepted = true;
        break;
      }
      t /= 2;
    }
    if (!accepted) return { x, f, iterations: iter - 1, converged: false };
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = xNew[i] - x[i];
      y[i] = gNew[i] - g[i];
    }
    const sy = dot(s, y);
    if (sy > 1e-10) {
      if (S.length === history) {
        S.shift();
        Y.shift();
        rho.shift();
      }
      S.push(s);
      Y.push(y);
      rho.push(1 / sy);
    }
    const fOld = f;
    x = xNew.slice();
    [g, gNew] = [gNew, g];
    f = fNew;
    if (maxAbs(g) <= toleranceGrad) return { x, f, iterations: iter, converged: true };
    if (maxAbs(s) <= toleranceChange || Math.abs(f - fOld) < toleranceChange) return { x, f, iterations: iter, converged: true };
  }
  return { x, f, iterations: maxIter, converged: false };
}
