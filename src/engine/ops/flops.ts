/**
 * FLOP counts per op, for benchmark reporting. Multiply-adds count 2.
 * Elementwise and normalisation counts are approximate (one per arithmetic
 * op in the kernel, exp/log/sqrt counted as 1): they are tiny next to the
 * matmuls and attention and are only there so totals are complete.
 */
import type { AttentionDims } from './attention/cpu';

export function matmulFlops(m: number, n: number, k: number, batch = 1): number {
  return 2 * m * n * k * batch;
}

export const linearFlops = {
  forward: (n: number, inDim: number, outDim: number, bias = true) => matmulFlops(n, outDim, inDim) + (bias ? n * outDim : 0),
  backward: (n: number, inDim: number, outDim: number) => matmulFlops(n, inDim, outDim),
};

export const layerNormFlops = {
  forward: (rows: number, d: number) => 8 * rows * d,
  backward: (rows: number, d: number) => 11 * rows * d,
};

export const quickGeluFlops = {
  forward: (n: number) => 5 * n,
  backward: (n: number) => 10 * n,
};

export const addFlops = (n: number) => n;

export const l2NormalizeFlops = {
  forward: (rows: number, d: number) => 3 * rows * d,
  backward: (rows: number, d: number) => 7 * rows * d,
};

/** Σ over own query rows of the number of keys each attends to: T·P + T(T+1)/2. */
export function attentionPairs(d: AttentionDims): number {
  return d.t * d.p + (d.t * (d.t + 1)) / 2;
}

export const attentionFlops = {
  /** Scores (2·dh), softmax (~3), weighted sum of V (2·dh) per (query, key) pair and head. */
  forward: (d: AttentionDims) => d.b * d.h * attentionPairs(d) * (4 * d.dh + 3),
  /** Recomputed scores, dO·V, dQ, dK, dV (2·dh each) plus softmax and dS per pair. */
  backward: (d: AttentionDims) => d.b * d.h * attentionPairs(d) * (10 * d.dh + 6),
};

export const cosineCEFlops = {
  forward: (n: number, k: number, e: number) => matmulFlops(n, k, e) + 4 * n * k,
  backward: (n: number, k: number, e: number) => matmulFlops(k, e, n) + 4 * n * k,
};
