/**
 * Central-difference gradient check in Float64. The checked function maps
 * inputs to an output array; the scalar is L = Σ out·R for a fixed random R,
 * so dL/dout = R is what the analytic backward receives.
 */
import { randn } from './random';

export interface GradCheckResult {
  /** Max |fd - analytic| / max(max|fd|, 1e-8), per input. */
  relErrors: number[];
}

export function gradCheck(
  inputs: Float64Array[],
  forward: (inputs: Float64Array[]) => ArrayLike<number>,
  backward: (inputs: Float64Array[], dOut: Float64Array) => ArrayLike<number>[],
  options: { eps?: number; seed?: number; which?: number[] } = {},
): GradCheckResult {
  const eps = options.eps ?? 1e-6;
  const out0 = forward(inputs);
  const r = randn(out0.length, options.seed ?? 12345);
  const loss = (xs: Float64Array[]) => {
    const o = forward(xs);
    let s = 0;
    for (let i = 0; i < o.length; i++) s += o[i] * r[i];
    return s;
  };
  const analytic = backward(inputs, r);
  const which = options.which ?? inputs.map((_, i) => i);
  const relErrors: number[] = [];
  for (const w of which) {
    const x = inputs[w];
    const g = analytic[w];
    let maxDiff = 0;
    let maxRef = 0;
    for (let i = 0; i < x.length; i++) {
      const keep = x[i];
      x[i] = keep + eps;
      const lp = loss(inputs);
      x[i] = keep - eps;
      const lm = loss(inputs);
      x[i] = keep;
      const fd = (lp - lm) / (2 * eps);
      maxDiff = Math.max(maxDiff, Math.abs(fd - g[i]));
      maxRef = Math.max(maxRef, Math.abs(fd));
    }
    relErrors.push(maxDiff / Math.max(maxRef, 1e-8));
  }
  return { relErrors };
}
