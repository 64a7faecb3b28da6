/**
 * Prompt assembly as KaiyangZhou/CoOp's PromptLearner does it.
 *
 * Each class's prompt is tokenized from "X X … X {name}." so its ids are
 * [SOS, X×M, name tokens, '.', EOS, 0…]. The token prefix is row 0 and the token
 * suffix rows 1+M…; the context vectors [V]1..M are placed by `position`:
 *   end:    [SOS] [V]1..M  name . EOS
 *   middle: [SOS] [V]1..M/2 name [V]M/2+1..M . EOS
 *   front:  [SOS] name [V]1..M . EOS
 * Either way the prompt keeps its length, so the EOS stays where the ids have it
 * (CoOp takes the EOS feature at argmax of the tokenized prompt).
 *
 * A prompt is described as one row index per position into a combined table:
 * rows < vocab are token embeddings, rows ≥ vocab are context vectors (V + j unified,
 * V + k·M + j class-specific). The GPU engine stores the table exactly so (the
 * context appended after the token embeddings), so one gather builds every prompt.
 */
import { like, type Arr } from './ops/tensor';

export type ClassTokenPosition = 'end' | 'middle' | 'front';

export interface PromptSpec {
  /** Per class, the tokenized "X X … X name." (77 ids, or any fixed context length). */
  tokenIds: ArrayLike<number>[];
  /** Number of BPE tokens of each class name (after '_' → ' '). */
  nameLens: ArrayLike<number>;
  /** M, the number of context vectors. */
  nCtx: number;
  /** Class-specific context: ctx is [K, M, D] instead of [M, D]. */
  csc: boolean;
  position: ClassTokenPosition;
}

export interface PromptLayout {
  K: number;
  /** Context length (77). */
  T: number;
  M: number;
  csc: boolean;
  position: ClassTokenPosition;
  /** Rows of the token-embedding table; context rows start here. */
  vocab: number;
  /** [K, T] row of the combined table for each position. */
  rows: Int32Array;
  /** EOS position per class (argmax of the ids). */
  eos: Int32Array;
  /** Context rows in the table: M (unified) or K·M (CSC). */
  ctxRows: number;
}

/** Index of the largest id: CLIP's EOS, which has the largest id in the vocabulary. */
export function eosIndex(ids: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < ids.length; i++) if (ids[i] > ids[best]) best = i;
  return best;
}

export function promptLayout(spec: PromptSpec, vocab: number): PromptLayout {
  const K = spec.tokenIds.length;
  if (K === 0) throw new Error('prompt assembly: no classes');
  if (spec.nameLens.length !== K) throw new Error(`prompt assembly: ${K} token rows but ${spec.nameLens.length} name lengths`);
  const T = spec.tokenIds[0].length;
  const M = spec.nCtx;
  if (!(M >= 1)) throw new Error(`prompt assembly: n_ctx must be ≥ 1 (got ${M})`);
  const rows = new Int32Array(K * T);
  const eos = new Int32Array(K);
  const half = Math.floor(M / 2);
  for (let k = 0; k < K; k++) {
    const ids = spec.tokenIds[k];
    if (ids.length !== T) throw new Error(`prompt assembly: class ${k} has ${ids.length} ids, class 0 has ${T}`);
    const nl = spec.nameLens[k];
    const e = eosIndex(ids);
    if (1 + M + nl > e) {
      throw new Error(`prompt assembly: class ${k}: ${M} context tokens and a ${nl}-token name do not fit before its EOS at ${e}`);
    }
    eos[k] = e;
    const ctxBase = vocab + (spec.csc ? k * M : 0);
    for (let t = 0; t < T; t++) {
      // j: which context vector sits at t, or -1 where a token does; tok: which id otherwise.
      let j = -1;
      let tok = t;
      if (t === 0 || t >= 1 + M + nl) tok = t;
      else if (spec.position === 'end') {
        if (t <= M) j = t - 1;
      }
      else if (spec.position === 'middle') {
        if (t <= half) j = t - 1;
        else if (t <= half + nl) tok = 1 + M + (t - 1 - half);
        else j = half + (t - 1 - half - nl);
      } else if (spec.position === 'front') {
        if (t <= nl) tok = M + t;
        else j = t - 1 - nl;
      } else throw new Error(`prompt assembly: unknown class token position '${spec.position as string}'`);
      if (j >= 0) {
        rows[k * T + t] = ctxBase + j;
        continue;
      }
      const id = ids[tok];
      if (!(id >= 0 && id < vocab)) {
        throw new Error(`prompt assembly: class ${k} position ${tok}: token id ${id} is outside the vocabulary (${vocab})`);
      }
      rows[k * T + t] = id;
    }
  }
  return { K, T, M, csc: spec.csc, position: spec.position, vocab, rows, eos, ctxRows: spec.csc ? K * M : M };
}

/** Highest EOS position + 1: positions beyond never reach any EOS feature under the causal mask. */
export function usedLength(layout: PromptLayout): number {
  let m = 0;
  for (const e of layout.eos) m = Math.max(m, e);
  return m + 1;
}

/**
 * Longest run of leading positions whose input embedding is the same row for every class.
 * Under the causal mask their hidden states are identical too, so they can be computed once.
 * Capped below the earliest EOS so every class keeps its EOS among its own positions.
 */
export function sharedPrefixLength(layout: PromptLayout): number {
  const { K, T, rows, eos } = layout;
  let minEos = T;
  for (const e of eos) minEos = Math.min(minEos, e);
  let p = 0;
  for (; p < minEos; p++) {
    const r = rows[p];
    let same = true;
    for (let k = 1; k < K && same; k++) same = rows[k * T + p] === r;
    if (!same) break;
  }
  return p;
}

/**
 * Input embeddings [K, Tused, D] for positions 0..Tused-1 (positional embeddings not added).
 * `ctx` is [M, D] or [K, M, D]; the output array type follows `ctx` (Float64 for gradient checks).
 */
export function assembleEmbeddings(layout: PromptLayout, tokenEmbedding: Arr, ctx: Arr, D: number, Tused = layout.T): Arr {
  const { K, T, vocab, rows } = layout;
  if (ctx.length !== layout.ctxRows * D) throw new Error(`prompt assembly: ctx has ${ctx.length} values, expected ${layout.ctxRows}×${D}`);
  const out = like(ctx, K * Tused * D);
  for (let k = 0; k < K; k++) {
    for (let t = 0; t < Tused; t++) {
      const r = rows[k * T + t];
      const src = r >= vocab ? ctx : tokenEmbedding;
      const off = (r >= vocab ? r - vocab : r) * D;
      out.set(src.subarray(off, off + D), (k * Tused + t) * D);
    }
  }
  return out;
}

/** d ctx from d(input embeddings) [K, Tused, D]: a unified context row sums over every class that uses it. */
export function scatterContextGrad(layout: PromptLayout, dEmb: Arr, D: number, Tused: number): Arr {
  const { K, T, vocab, rows } = layout;
  const out = like(dEmb, layout.ctxRows * D);
  for (let k = 0; k < K; k++) {
    for (let t = 0; t < Tused; t++) {
      const r = rows[k * T + t];
      if (r < vocab) continue;
      const o = (r - vocab) * D;
      const s = (k * Tused + t) * D;
      for (let d = 0; d < D; d++) out[o + d] += dEmb[s + d];
    }
  }
  return out;
}

/** Name lengths from tokenized "X…X name." prompts: EOS − M − 2 (SOS and '.' are one token each). */
export function nameLensFromIds(tokenIds: ArrayLike<number>[], nCtx: number): number[] {
  return tokenIds.map((ids) => eosIndex(ids) - nCtx - 2);
}
