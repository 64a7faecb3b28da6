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
