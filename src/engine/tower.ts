/**
 * Prompts inside the tower (DESIGN.md "Prompts inside the tower"): the two engine capabilities the successors of
 * CoOp need, and the one step both engines offer for them.
 *
 * - A context per prompt row. CSC is "one per class"; CoCoOp is one per image × class: the step runs R = repeat × K
 *   rows, row r = b·K + k being class k's prompt with its own context [M, D] (ctx + π(image b) in CoCoOp).
 * - Deep tokens: learnable tokens that replace the hidden states at positions 1..M at the input of block b ≥ 1
 *   (before its first layer norm), discarding what block b − 1 computed there. Their gradient is that block's input
 *   gradient at those positions (summed over rows when shared), and nothing flows below through a replaced position.
 *   Deep language prompting gives every block its own shared tokens; TCP gives block 8 one set per class.
 *
 * A method's loss is formed by the host from the rows' normalized text features (FeatureLoss): the engine runs the
 * forward, hands over the features, and backpropagates the returned gradient through the same activations.
 */
import type { Arr } from './ops/tensor';

/** Tokens that replace the hidden states at positions 1..M at the input of `block`. */
export interface DeepTokens {
  /** 1..L−1; block 0's input is the prompt's own embeddings (the context `ctx`). */
  block: number;
  /** [M, D] shared by every row, or [R, M, D] with `perRow`. */
  tokens: Arr;
  perRow: boolean;
}

/** A method's loss on the rows' L2-normalized text features [R·E]: the loss and d loss / d (normalized features). */
export type FeatureLoss = (txt: Float32Array) => { loss: number; dTxt: ArrayLike<number>; logits?: Float32Array };

export interface TowerStepInput {
  /**
   * The context at the input: [M, D] shared, [K, M, D] per class (`csc`), or [R, M, D] one per row (`ctxPerRow`).
   * The class names, M's token slots and the class token position are the engine's current prompts (setPrompts).
   */
  ctx: Float32Array;
  csc?: boolean;
  /** R = repeat × K rows; row b·K + k is class k's prompt. Default 1. */
  repeat?: number;
  ctxPerRow?: boolean;
  deep?: DeepTokens[];
  /** The loss on the rows' normalized text features. Without it the step is forward only (no gradients). */
  featureLoss?: FeatureLoss;
}

export interface TowerStepResult {
  /** The feature loss's (0 when forward only). */
  loss: number;
  /** The feature loss's logits, when it gave them. */
  logits?: Float32Array;
  /** L2-normalized text features of the R rows, [R·E]. */
  textFeatures: Float32Array;
  /** d loss / d ctx, the layout of `ctx`; absent when forward only. */
  gradCtx?: Float32Array;
  /** d loss / d tokens for each entry of `deep`, in its order and layout; absent when forward only. */
  gradDeep?: Float32Array[];
}

export type TowerStepFn = (input: TowerStepInput) => Promise<TowerStepResult>;

/** The prompts a tower step runs: per class, "X … X name." ids, the names' token counts and where the name goes. */
export interface TowerPrompts {
  tokenIds: ArrayLike<number>[];
  nameLens: ArrayLike<number>;
  position: 'end' | 'middle' | 'front';
}

/**
 * The R = repeat × K rows an engine runs for a tower step: their prompts (class r mod K), whether the context the
 * engine sees is one per row (per-row, or per-class tiled over the repeats), M, and the context in that layout.
 * `foldGrad` brings the engine's context gradient back to the input's layout.
 */
export function towerRows<A extends Arr>(prompts: TowerPrompts, input: { ctx: A; csc?: boolean; repeat?: number; ctxPerRow?: boolean }, D: number) {
  const K = prompts.tokenIds.length;
  const repeat = input.repeat ?? 1;
  if (!(Number.isInteger(repeat) && repeat >= 1)) throw new Error(`tower step: repeat must be a whole number ≥ 1 (got ${repeat})`);
  const R = repeat * K;
  const per = input.ctxPerRow ? R : input.csc ? K : 1;
  const M = input.ctx.length / (per * D);
  if (!(Number.isInteger(M) && M >= 1)) throw new Error(`tower step: ctx has ${input.ctx.length} values, not ${per}·M·${D}`);
  const tile = Boolean(input.csc && !input.ctxPerRow && repeat > 1);
  let ctx: A = input.ctx;
  if (tile) {
    ctx = new (input.ctx.constructor as new (n: number) => A)(input.ctx.length * repeat);
    for (let b = 0; b < repeat; b++) ctx.set(input.ctx, b * input.ctx.length);
  }
  const foldGrad = <G extends Arr>(g: G): G => {
    if (!tile) return g;
    const n = g.length / repeat;
    const out = new (g.constructor as new (n: number) => G)(n);
    for (let b = 0; b < repeat; b++) for (let i = 0; i < n; i++) out[i] += g[b * n + i];
    return out;
  };
  return {
    rows: R,
    M,
    csc: Boolean(input.ctxPerRow || input.csc),
    tokenIds: Array.from({ length: R }, (_, r) => prompts.tokenIds[r % K]),
    nameLens: Array.from({ length: R }, (_, r) => prompts.nameLens[r % K]),
    ctx,
    foldGrad,
  };
}

/** Rows whose deep tokens differ share only SOS: from position 1 on, their hidden states differ at that block. */
export function towerPrefixCap(deep: readonly DeepTokens[] | undefined): number {
  return deep?.some((d) => d.perRow) ? 1 : Infinity;
}

/** Checks a deep-token list against the model and the rows; returns M per entry. */
export function checkDeepTokens(deep: readonly DeepTokens[], L: number, D: number, R: number): number[] {
  const seen = new Set<number>();
  return deep.map((d, i) => {
    if (!(Number.isInteger(d.block) && d.block >= 1 && d.block < L)) throw new Error(`deep tokens ${i}: block ${d.block} is not one of 1..${L - 1}`);
    if (seen.has(d.block)) throw new Error(`deep tokens: block ${d.block} is given twice`);
    seen.add(d.block);
    const per = d.perRow ? R * D : D;
    const M = d.tokens.length / per;
    if (!(Number.isInteger(M) && M >= 1)) throw new Error(`deep tokens for block ${d.block}: ${d.tokens.length} values is not ${d.perRow ? `R·M·D (R = ${R}, D = ${D})` : `M·D (D = ${D})`}`);
    return M;
  });
}
