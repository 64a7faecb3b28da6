import { like, type Arr } from '../tensor';

/** CLIP's activation: y = x·sigmoid(1.702·x). */
export const QUICK_GELU_ALPHA = 1.702;

export function quickGeluForwardCpu(x: Arr): Arr {
  const y = like(x, x.length);
  for (let i = 0; i < x.length; i++) y[i] = x[i] / (1 + Math.exp(-QUICK_GELU_ALPHA * x[i]));
  return y;
}

/** dx = dy·(s + 1.702·x·s·(1-s)), s = sigmoid(1.702·x); needs the pre-activation x. */
export function quickGeluBackwardCpu(dy: Arr, x: Arr): Arr {
  const dx = like(dy, x.length);
  for (let i = 0; i < x.length; i++) {
    const s = 1 / (1 + Math.exp(-QUICK_GELU_ALPHA * x[i]));
    dx[i] = dy[i] * (s + QUICK_GELU_ALPHA * x[i] * s * (1 - s));
  }
  return dx;
}
