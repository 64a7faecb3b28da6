/**
 * TensorBoard's scalar smoothing: an exponential moving average with weight w in [0, 1), debiased so the first
 * points are not pulled towards zero (last = w·last + (1 − w)·v; shown = last / (1 − wⁿ) after n finite values).
 * Non-finite values are passed through and do not enter the average. w = 0 returns the raw values.
 */
export function emaSmooth(values: readonly number[], weight: number): number[] {
  if (!(weight >= 0 && weight < 1)) throw new RangeError(`smoothing weight must be in [0, 1), got ${weight}`);
  let last = 0;
  let n = 0;
  return values.map((v) => {
    if (!Number.isFinite(v)) return v;
    last = last * weight + (1 - weight) * v;
    n++;
    const debias = weight === 0 ? 1 : 1 - weight ** n;
    return last / debias;
  });
}
