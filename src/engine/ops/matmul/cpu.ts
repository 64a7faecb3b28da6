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
  const c = into ?? like(a, (batch - 1) * sc + m * n);
  // The CPU twin trains whole runs in the app's fallback path, so this is blocked for speed:
  // four rows of op(A) are copied out and share each load of B, and the inner loops run over
  // contiguous memory. Every C element is still summed over p in ascending order in doubles.
  const aRows = [0, 1, 2, 3].map(() => new Float64Array(k));
  const cRows = [0, 1, 2, 3].map(() => new Float64Array(n));
  for (let z = 0; z < batch; z++) {
    for (let i = 0; i < m; i += 4) {
      const rows = Math.min(4, m - i);
      for (let r = 0; r < rows; r++) {
        const ar = aRows[r];
        if (s.transA) for (let p = 0; p < k; p++) ar[p] = a[z * sa + p * m + i + r];
        else for (let p = 0, a0 = z * sa + (i + r) * k; p < k; p++) ar[p] = a[a0 + p];
      }
      // The last block of a matrix whose rows are not a multiple of 4 computes unused rows too (left over from
      // the previous block) and stores only its own.
      block4(b, z * sb, s, aRows, cRows);
      for (let r = 0; r < rows; r++) storeRow(c, z * sc + (i + r) * n, cRows[r], s.alpha ?? 1, bias, into !== undefined);
    }
  }
  return c;
}

function storeRow(c: Arr, c0: number, row: Float64Array, alpha: number, bias: Arr | undefined, accumulate: boolean): void {
  for (let j = 0; j < row.length; j++) {
    let v = alpha * row[j] + (bias ? bias[j] : 0);
    if (accumulate) v += c[c0 + j];
    c[c0 + j] = v;
  }
}

function block4(b: Arr, b0: number, s: MatmulShape, a: Float64Array[], out: Float64Array[]): void {
  const { n, k } = s;
  const [a0, a1, a2, a3] = a;
  const [c0, c1, c2, c3] = out;
  if (s.transB) {
    for (let j = 0; j < n; j++) {
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let p = 0, bj = b0 + j * k; p < k; p++) {
        const bv = b[bj + p];
        s0 += a0[p] * bv;
        s1 += a1[p] * bv;
        s2 += a2[p] * bv;
        s3 += a3[p] * bv;
      }
      c0[j] = s0;
      c1[j] = s1;
      c2[j] = s2;
      c3[j] = s3;
    }
    return;
  }
  c0.fill(0);
  c1.fill(0);
  c2.fill(0);
  c3.fill(0);
  for (let p = 0; p < k; p++) {
    const v0 = a0[p];
    const v1 = a1[p];
    const v2 = a2[p];
    const v3 = a3[p];
    for (let j = 0, bp = b0 + p * n; j < n; j++) {
      const bv = b[bp + j];
      c0[j] += v0 * bv;
      c1[j] += v1 * bv;
      c2[j] += v2 * bv;
      c3[j] += v3 * bv;
    }
  }
}
