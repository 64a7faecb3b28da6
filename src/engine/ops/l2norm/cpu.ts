import { like, type Arr } from '../tensor';

/** Norms below this are clamped so an all-zero row gives zeros, not NaN. */
export const L2_NORM_MIN = 1e-12;

/** y = x / ||x|| per row of [rows, d]. */
export function l2NormalizeForwardCpu(x: Arr, rows: number, d: number): Arr {
  const y = like(x, rows * d);
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    let s = 0;
    for (let i = 0; i < d; i++) s += x[o + i] * x[o + i];
    const n = Math.max(Math.sqrt(s), L2_NORM_MIN);
    for (let i = 0; i < d; i++) y[o + i] = x[o + i] / n;
  }
  return y;
}

/**
 * dx = (dy - y·(y·dy)) / ||x||. Recomputes the norm from x (one cheap pass)
 * rather than saving it, so only x must be kept from forward.
 */
export function l2NormalizeBackwardCpu(dy: Arr, x: Arr, rows: number, d: number): Arr {
  const dx = like(dy, rows * d);
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    let s = 0;
    for (let i = 0; i < d; i++) s += x[o + i] * x[o + i];
    const n = Math.max(Math.sqrt(s), L2_NORM_MIN);
    let yg = 0;
    for (let i = 0; i < d; i++) yg += (x[o + i] / n) * dy[o + i];
    for (let i = 0; i < d; i++) dx[o + i] = (dy[o + i] - (x[o + i] / n) * yg) / n;
  }
  return dx;
}
