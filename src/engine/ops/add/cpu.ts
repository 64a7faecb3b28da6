import { like, type Arr } from '../tensor';

/**
 * Residual add. Backward is the identity to both operands (da = db = dout),
 * so there is no backward function: the engine passes dout on, or
 * accumulates it with `addInPlaceCpu` where two gradient paths meet.
 */
export function addCpu(a: Arr, b: Arr): Arr {
  const out = like(a, a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] + b[i];
  return out;
}

/** a += b, returning a. */
export function addInPlaceCpu(a: Arr, b: Arr): Arr {
  for (let i = 0; i < a.length; i++) a[i] += b[i];
  return a;
}
