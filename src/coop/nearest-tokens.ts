/**
 * What a learned vector "says": the vocabulary tokens whose embeddings lie nearest to it, by Euclidean distance in
 * token-embedding space, as the original's interpret_prompt.py does (torch.cdist against the token table, then
 * sorting). Learned vectors usually sit far from every real token (CoOp §5), so the distances matter as much as
 * the words.
 *
 * Cost: one pass over the V×D table per context vector, on the CPU (≈ 0.4 GFLOP for M = 16 at V = 49408,
 * D = 512); class-specific context multiplies that by K.
 */
import type { ContextVectors } from './context-init';

export interface Neighbor {
  id: number;
  token: string;
  distance: number;
}

/**
 * Top-k nearest tokens of every context vector, as [sets][M][k]: sets = K for class-specific context, 1 for
 * unified; each list sorted by increasing distance (ties keep the lower id first).
 */
export function nearestTokens(
  ctx: ContextVectors,
  table: Float32Array,
  tokenString: (id: number) => string,
  k = 5,
): Neighbor[][][] {
  const { dim, nCtx } = ctx;
  if (table.length % dim !== 0) throw new RangeError(`token table has ${table.length} values, not a multiple of width ${dim}`);
  const vocab = table.length / dim;
  const kk = Math.min(k, vocab);
  const sets = Math.max(ctx.cscClasses, 1);
  const out: Neighbor[][][] = [];
  const bestD = new Float64Array(kk);
  const bestId = new Int32Array(kk);
  for (let s = 0; s < sets; s++) {
    const perSet: Neighbor[][] = [];
    for (let m = 0; m < nCtx; m++) {
      const off = (s * nCtx + m) * dim;
      const v = ctx.data.subarray(off, off + dim);
      bestD.fill(Infinity);
      bestId.fill(-1);
      for (let t = 0; t < vocab; t++) {
        const row = t * dim;
        let d2 = 0;
        for (let e = 0; e < dim; e++) {
          const diff = v[e] - table[row + e];
          d2 += diff * diff;
        }
        if (d2 < bestD[kk - 1]) {
          // Insertion into the short sorted list; strict < keeps earlier ids ahead on ties.
          let j = kk - 1;
          while (j > 0 && bestD[j - 1] > d2) {
            bestD[j] = bestD[j - 1];
            bestId[j] = bestId[j - 1];
            j--;
          }
          bestD[j] = d2;
          bestId[j] = t;
        }
      }
      perSet.push(Array.from({ length: kk }, (_, j) => ({ id: bestId[j], token: tokenString(bestId[j]), distance: Math.sqrt(bestD[j]) })));
    }
    out.push(perSet);
  }
  return out;
}

/**
 * Deep prompts' own tokens (deep-prompts.ts: "deep_ctx.{block}" [M, D] extras) read the same way, per block: they
 * replace hidden states at a block's input, not embeddings, so a "nearest word" there is only a rough reading (the
 * residual stream drifts from the embedding space with depth); the distances say how rough.
 */
export function nearestDeepTokens(ctx: ContextVectors, table: Float32Array, tokenString: (id: number) => string, k = 5): Array<{ block: number; lists: Neighbor[][] }> {
  const out: Array<{ block: number; lists: Neighbor[][] }> = [];
  for (const p of ctx.extras ?? []) {
    const m = /^deep_ctx\.(\d+)$/.exec(p.name);
    if (!m || p.shape.length !== 2 || p.shape[1] !== ctx.dim) continue;
    const [lists] = nearestTokens({ data: p.data, nCtx: p.shape[0], dim: ctx.dim, cscClasses: 0 }, table, tokenString, k);
    out.push({ block: Number(m[1]), lists });
  }
  return out.sort((a, b) => a.block - b.block);
}
