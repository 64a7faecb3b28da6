/**
 * The terms the successors' host losses (TCP, DePT) form on the rows' L2-normalized text features t [K, E], each
 * with its exact gradient on t (what engine/tower.ts FeatureLoss returns; the engine then backpropagates it through
 * the normalization and the tower). Doubles throughout; inputs are plain arrays, so finite differences in f64 check
 * them directly.
 */
import { featureCrossEntropy } from './feature-ce';

/** torch.nn.CosineSimilarity(dim=1, eps=1e-07), as KgCoOp, TCP and DePT's KgCoOp build it. */
export const COS_EPS = 1e-7;

export interface SimilarityCe {
  /** Mean cross-entropy of the similarity logits. */
  loss: number;
  /** s · f tᵀ, [B, K]. */
  logits: Float32Array;
  /** d loss / d t, [K, E]. */
  dText: Float64Array;
}

/**
 * CLIP's similarity logits s · f tᵀ of images f [B, E] (normalized, as cached) against t [K, E], and F.cross_entropy
 * with its gradient on t: feature-ce.ts's, every image scored against the same K rows.
 */
export function similarityCe(text: ArrayLike<number>, features: ArrayLike<number>, labels: ArrayLike<number>, K: number, E: number, scale: number): SimilarityCe {
  const r = featureCrossEntropy(features, text, labels, { B: labels.length, K, E, scale, R: K, row: (_b, k) => k });
  return { loss: r.loss, logits: r.logits, dText: r.dTxt };
}

/**
 * The knowledge term w · (1 − mean_k cos(t_k, c_k)) against the hand-written prompts' features c [K, E], and its
 * exact gradient on t (t treated as free, as autograd sees it): −(w/K) · (c_k/(‖t_k‖‖c_k‖) − cos_k · t_k/‖t_k‖²).
 * Where the product of the norms falls under eps, the official clamp makes the denominator constant.
 */
export function anchorPenalty(
  text: ArrayLike<number>,
  anchors: ArrayLike<number>,
  K: number,
  E: number,
  weight: number,
): { penalty: number; dText: Float64Array } {
  if (text.length !== K * E || anchors.length !== K * E) {
    throw new RangeError(`text features have ${text.length} and ${anchors.length} values, expected K·E = ${K}·${E}`);
  }
  const dText = new Float64Array(K * E);
  let sum = 0;
  for (let k = 0; k < K; k++) {
    let dot = 0;
    let tt = 0;
    let cc = 0;
    for (let e = 0; e < E; e++) {
      const t = text[k * E + e];
      const c = anchors[k * E + e];
      dot += t * c;
      tt += t * t;
      cc += c * c;
    }
    const nt = Math.sqrt(tt);
    const denom = nt * Math.sqrt(cc);
    const clamped = denom < COS_EPS;
    const d = clamped ? COS_EPS : denom;
    const cos = dot / d;
    sum += cos;
    const s = -weight / K;
    for (let e = 0; e < E; e++) {
      const dCos = anchors[k * E + e] / d - (clamped ? 0 : (cos * text[k * E + e]) / tt);
      dText[k * E + e] = s * dCos;
    }
  }
  return { penalty: weight * (1 - sum / K), dText };
}
