import { like, type Arr } from '../tensor';

export const LAYER_NORM_EPS = 1e-5;

/**
 * y = (x - mean)·rstd·gamma + beta over the last dim. Returns mean and rstd
 * per row as well: backward takes them instead of recomputing, costing 8 bytes
 * per row of saved state (the input x is kept anyway for xhat).
 */
export function layerNormForwardCpu(x: Arr, gamma: Arr, beta: Arr, rows: number, d: number, eps = LAYER_NORM_EPS): { y: Arr; mean: Arr; rstd: Arr } {
  const y = like(x, rows * d);
  const mean = like(x, rows);
  const rstd = like(x, rows);
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    let s = 0;
    for (let i = 0; i < d; i++) s += x[o + i];
    const m = s / d;
    let v = 0;
    for (let i = 0; i < d; i++) v += (x[o + i] - m) ** 2;
    const rs = 1 / Math.sqrt(v / d + eps);
    mean[r] = m;
    rstd[r] = rs;
    for (let i = 0; i < d; i++) y[o + i] = (x[o + i] - m) * rs * gamma[i] + beta[i];
  }
  return { y, mean, rstd };
}

/**
 * dx = rstd·(g - mean(g) - xhat·mean(g·xhat)) with g = dy·gamma, xhat = (x-mean)·rstd.
 * No dgamma/dbeta: weights are frozen.
 */
export function layerNormBackwardCpu(dy: Arr, x: Arr, gamma: Arr, mean: Arr, rstd: Arr, rows: number, d: number): Arr {
  const dx = like(dy, rows * d);
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    let sg = 0;
    let sgx = 0;
    for (let i = 0; i < d; i++) {
      const g = dy[o + i] * gamma[i];
      const xh = (x[o + i] - mean[r]) * rstd[r];
      sg += g;
      sgx += g * xh;
    }
    const a = sg / d;
    const b = sgx / d;
    for (let i = 0; i < d; i++) {
      const g = dy[o + i] * gamma[i];
      const xh = (x[o + i] - mean[r]) * rstd[r];
      dx[o + i] = rstd[r] * (g - a - xh * b);
    }
  }
  return dx;
}
