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
