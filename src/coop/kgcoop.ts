/**
 * KgCoOp (Yao et al., CVPR 2023, "Knowledge-guided Context Optimization"; official code htyao89/KgCoOp,
 * trainers/kgcoop.py): CoOp's cross-entropy plus a pull of each learned prompt's text feature towards the frozen
 * text feature of the hand-written prompt of the same class,
 *
 *   loss = CE + w · (1 − mean_k cos(t_k, c_k)),
 *
 * t_k the L2-normalized learned text features, c_k the hand-written prompt's ("a photo of a {}." or the chosen
 * template/ensemble), computed once and normalized. The official default w is 8.0 (its base-to-new script).
 *
 * The extra term's gradient joins the cross-entropy's on the normalized text features, before the one backward
 * through the text encoder. On the normalized t_k it is −(w/K)·(c_k/|c_k| − cos_k·t_k); the L2 normalization's
 * backward then removes every component along t_k, so −(w/K)·ĉ_k alone gives the exact same context gradient,
 * and it is known before the step (the engine adds it without reading anything back).
 */

import { anchorPenalty, COS_EPS } from './feature-loss';

export const KGCOOP_DEFAULT_WEIGHT = 8.0;

export interface KgcoopSettings {
  /** w, the weight of the knowledge term. */
  weight: number;
  /** The hand-written prompts' text features [K, E] (normalized here again, as the official code does). */
  clipFeatures: Float32Array;
}

function checkShapes(a: ArrayLike<number>, b: ArrayLike<number>, K: number, E: number): void {
  if (a.length !== K * E || b.length !== K * E) {
    throw new RangeError(`KgCoOp: text features have ${a.length} and ${b.length} values, expected K·E = ${K}·${E}`);
  }
}

/** w · (1 − mean_k cos(t_k, c_k)). */
export function kgcoopPenalty(textFeatures: ArrayLike<number>, clipFeatures: ArrayLike<number>, K: number, E: number, weight: number): number {
  checkShapes(textFeatures, clipFeatures, K, E);
  return anchorPenalty(textFeatures, clipFeatures, K, E, weight).penalty;
}

/**
 * The knowledge term's gradient on the normalized text features, up to components along t_k that the
 * normalization's backward removes: −(w/K)·ĉ_k, [K, E].
 */
export function kgcoopTextGrad(clipFeatures: ArrayLike<number>, K: number, E: number, weight: number): Float32Array {
  checkShapes(clipFeatures, clipFeatures, K, E);
  const out = new Float32Array(K * E);
  for (let k = 0; k < K; k++) {
    let cc = 0;
    for (let e = 0; e < E; e++) cc += clipFeatures[k * E + e] ** 2;
    const s = -weight / K / Math.max(Math.sqrt(cc), COS_EPS);
    for (let e = 0; e < E; e++) out[k * E + e] = s * clipFeatures[k * E + e];
  }
  return out;
}
