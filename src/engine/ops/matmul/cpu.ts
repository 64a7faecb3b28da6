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

/** Spreads matmulCpu's rows over other threads (src/engine/ops/matmul/cpu-pool.ts); null: one thread. */
export interface MatmulCpuParallel {
  run(a: Arr, b: Arr, s: MatmulShape, bias: Arr | undefined, into: Arr | undefined): Arr | null;
}
let parallel: MatmulCpuParallel | null = null;

/** Installs (or with null removes) the worker pool that matmulCpu hands large products to. */
export function setMatmulCpuParallel(p: MatmulCpuParallel | null): void {
  parallel = p;
}

/**
 * C = alpha·op(A)·op(B) + bias[n], batched. With `accumulate` the result is added
 * to `into` (which is then returned); otherwise a fresh array is returned.
 * With a worker pool installed, large Float32 products are split by rows over it (same per-element arithmetic,
 * so the same bits as one thread).
 */
export function matmulCpu(a: Arr, b: Arr, s: MatmulShape, bias?: Arr, into?: Arr): Arr {
  const fromPool = parallel?.run(a, b, s, bias, into);
  if (fromPool) return fromPool;
  const { m, n, k } = s;
  const batch = s.batch ?? 1;
  const sa = s.strideA ?? m * k;
  const sb = s.strideB ?? k * n;
  const sc = s.strideC ?? m * n;
  const c = into ?? like(a, (batch - 1) * sc + m * n);
  for (let z = 0; z < batch; z++) {
    matmulRowsCpu(a, b, c, m, n, k, !!s.transA, !!s.transB, s.alpha ?? 1, bias, into !== undefined, z * sa, z * sb, z * sc, 0, m);
  }
  return c;
}

/**
 * Rows [i0, i1) of one product (operands from offsets a0, b0, c0): the CPU twin's matmul kernel. It is
 * self-contained (no reference outside its own body) because the worker pool ships its source to the workers,
 * so every thread runs this very function.
 *
 * The CPU twin trains whole runs in the app's fallback path, so this is blocked for speed: four rows of op(A)
 * are copied out and share each load of B, and the inner loops run over contiguous memory. Every C element is
 * still summed over p in ascending order in doubles. The last block of rows that are not a multiple of 4
 * computes unused rows too (left over from the previous block) and stores only its own.
 */
export function matmulRowsCpu(
  a: ArrayLike<number>, b: ArrayLike<number>, c: { [i: number]: number; length: number },
  m: number, n: number, k: number, transA: boolean, transB: boolean, alpha: number,
  bias: ArrayLike<number> | undefined, accumulate: boolean, a0: number, b0: number, c0: number, i0: number, i1: number,
): void {
  const ar0 = new Float64Array(k), ar1 = new Float64Array(k), ar2 = new Float64Array(k), ar3 = new Float64Array(k);
  const aRows = [ar0, ar1, ar2, ar3];
  const cr0 = new Float64Array(n), cr1 = new Float64Array(n), cr2 = new Float64Array(n), cr3 = new Float64Array(n);
  const cRows = [cr0, cr1, cr2, cr3];
  for (let i = i0; i < i1; i += 4) {
    const rows = Math.min(4, i1 - i);
    for (let r = 0; r < rows; r++) {
      const ar = aRows[r];
      if (transA) for (let p = 0; p < k; p++) ar[p] = a[a0 + p * m + i + r];
      else for (let p = 0, o = a0 + (i + r) * k; p < k; p++) ar[p] = a[o + p];
    }
    if (transB) {
      for (let j = 0; j < n; j++) {
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let p = 0, bj = b0 + j * k; p < k; p++) {
          const bv = b[bj + p];
          s0 += ar0[p] * bv;
          s1 += ar1[p] * bv;
          s2 += ar2[p] * bv;
          s3 += ar3[p] * bv;
        }
        cr0[j] = s0;
        cr1[j] = s1;
        cr2[j] = s2;
        cr3[j] = s3;
      }
    } else {
      cr0.fill(0);
      cr1.fill(0);
      cr2.fill(0);
      cr3.fill(0);
      for (let p = 0; p < k; p++) {
        const v0 = ar0[p];
        const v1 = ar1[p];
        const v2 = ar2[p];
        const v3 = ar3[p];
        for (let j = 0, bp = b0 + p * n; j < n; j++) {
          const bv = b[bp + j];
          cr0[j] += v0 * bv;
          cr1[j] += v1 * bv;
          cr2[j] += v2 * bv;
          cr3[j] += v3 * bv;
        }
      }
    }
    for (let r = 0; r < rows; r++) {
      const row = cRows[r];
      for (let j = 0, o = c0 + (i + r) * n; j < n; j++) {
        let v = alpha * row[j] + (bias ? bias[j] : 0);
        if (accumulate) v += c[o + j];
        c[o + j] = v;
      }
    }
  }
}
