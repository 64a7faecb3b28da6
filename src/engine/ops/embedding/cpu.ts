import { like, type Arr, type IndexArr } from '../tensor';

export interface EmbeddingDims {
  /** Sequences. */
  b: number;
  /** Tokens per sequence. */
  t: number;
  /** Embedding width. */
  d: number;
  /** Absolute position of token 0: suffix tokens after a shared prefix of P positions start at P. */
  posOffset?: number;
}

/**
 * out[b,t] = table[ids[b,t]] + pos[posOffset + t].
 * Backward: d(out) is d(input embeddings) itself (identity); tables are frozen,
 * so there is no table gradient and no backward function.
 */
export function embeddingForwardCpu(table: Arr, pos: Arr, ids: IndexArr, dims: EmbeddingDims): Arr {
  const { b, t, d } = dims;
  const off = dims.posOffset ?? 0;
  const out = like(table, b * t * d);
  for (let s = 0; s < b; s++) {
    for (let i = 0; i < t; i++) {
      const id = ids[s * t + i];
      const o = (s * t + i) * d;
      for (let c = 0; c < d; c++) out[o + c] = table[id * d + c] + pos[(off + i) * d + c];
    }
  }
  return out;
}
