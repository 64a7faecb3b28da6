import { cosine } from '../../src/engine/load-proof';

/**
 * Error measures used by the op tests. `relErr` is max|a-b| / max(max|b|, floor):
 * scale-aware, and not blown up by single near-zero reference entries.
 */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

export function relErr(actual: ArrayLike<number>, expected: ArrayLike<number>, floor = 1e-6): number {
  return maxAbsDiff(actual, expected) / Math.max(maxAbs(expected), floor);
}

/** Records measured errors so the test log shows the real margin, not just pass/fail. */
export function report(name: string, err: number): number {
  console.log(`[tol] ${name}: ${err.toExponential(2)}`);
  return err;
}

/** The smallest cosine between matching rows of two [rows, E] arrays (text features against ORT's text_embeds). */
export function minRowCosine(got: Float32Array, want: Float32Array, rows: number): number {
  const E = want.length / rows;
  let min = 1;
  for (let b = 0; b < rows; b++) min = Math.min(min, cosine(got.subarray(b * E, (b + 1) * E), want.subarray(b * E, (b + 1) * E)));
  return min;
}
