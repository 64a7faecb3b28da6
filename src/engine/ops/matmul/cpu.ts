import { like, type Arr } from '../tensor';

export interface MatmulShape {
  /** Rows of C. */
  m: number;
  /** Columns of C. */
  n: number;
  /** Inner (reduced) dimension. */
  k: number;
  /** A is stored [k, m] instead of [m, k]. */
  transA?: boolean;
  /** B is stored [n, k] instead of [k, n]. */
  transB?: boolean;
  /** C = alpha · op(A)·op(B) (+ bias) (+ C). Default 1. */
  alpha?: number;
  /** Independent products; operands advance by their stride per batch (stride 0 shares an operand). */
  batch?: number;
  strideA?: number;
  strideB?: number;
  strideC?: number;
}

/**
 * C = alpha·op(A)·op(B) + bias[n], batched. With `accumulate` the result is added
 * to `into` (which is then returned); otherwise a fresh array is returned.
 */
export function matmulCpu(a: Arr, b: Arr, s: MatmulShape, bias?: Arr, into?: Arr): Arr {
  const { m, n, k } = s;
  const batch = s.batch ?? 1;
  const sa = s.strideA ?? m * k;
  const sb = s.strideB ?? k * n;
  const sc = s.strideC ?? m * n;
  const alpha = s.alpha ?? 1;
  const c = into ?? like(a, (batch - 1) * sc + m * n);
  for (let z = 0; z < batch; z++) {
    const a0 = z * sa;
    const b0 = z * sb;
    const c0 = z * sc;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let p = 0; p < k; p++) {
          const av = s.transA ? a[a0 + p * m + i] : a[a0 + i * k + p];
          const bv = s.transB ? b[b0 + j * k + p] : b[b0 + p * n + j];
          acc += av * bv;
        }
        let v = alpha * acc + (bias ? bias[j] : 0);
        if (into) v += c[c0 + i * n + j];
        c[c0 + i * n + j] = v;
      }
    }
  }
  return c;
}
