/**
 * ProGrad (Zhu et al., ICCV 2023, "Prompt-aligned Gradient"; official code BeierZhu/Prompt-align,
 * trainers/prograd.py and Dassl.ProGrad's prograd_backward_and_update): the context is updated only along
 * directions that do not contradict zero-shot CLIP's knowledge.
 *
 * Per step, two gradients with respect to the context: g_ce of the cross-entropy, and g_kl of the distillation
 * loss T² · mean_n Σ_k −p_nk log q_nk, p = softmax(zero-shot logits / T), q = softmax(learned logits / T) (the
 * official ProGradLoss; its gradient is the KL divergence's from p to q). Where they conflict (cosine < 0) the update
 * is g_ce − λ (g_ce · ĝ_kl) ĝ_kl, else g_ce unchanged (the KL gradient never enters the update by itself).
 * Official defaults: T = 1 (LOSS.T), λ = 1 (LOSS.LAMBDA in its scripts). The projection is over the whole context
 * tensor at once (the prompt learner's one parameter), unified or class-specific.
 */

import { zeroShotLogits } from './zero-shot';

export const PROGRAD_DEFAULTS = Object.freeze({ T: 1.0, lambda: 1.0 });

export interface ProgradSettings {
  /** Distillation temperature. */
  T: number;
  /** How much of the conflicting component is removed (1: all of it). */
  lambda: number;
  /** Zero-shot CLIP's logits [N, K] for a batch of normalized image features [N, E]: see zeroShotTeacher. */
  zeroShotLogits: (features: Float32Array) => Float32Array;
}

/**
 * The official teacher: zero-shot CLIP with the hand-written prompts' normalized text features [K, E] and its own
 * logit scale (logit_scale.exp()).
 */
export function zeroShotTeacher(text: Float32Array, E: number, scale: number): (features: Float32Array) => Float32Array {
  return (features) => zeroShotLogits(features, text, E, scale);
}

function softmaxRow(src: ArrayLike<number>, off: number, K: number, invT: number, out: Float64Array): void {
  let m = -Infinity;
  for (let k = 0; k < K; k++) m = Math.max(m, src[off + k] * invT);
  let s = 0;
  for (let k = 0; k < K; k++) s += out[k] = Math.exp(src[off + k] * invT - m);
  for (let k = 0; k < K; k++) out[k] /= s;
}

/**
 * The distillation loss and its gradient on the normalized text features [K, E], given the learned logits
 * (= scale · img · tᵀ) and the zero-shot logits, both [N, K]: d/d logits = T (q − p) / N, then through the logits.
 */
export function progradKl(
  logits: ArrayLike<number>,
  zsLogits: ArrayLike<number>,
  img: ArrayLike<number>,
  N: number,
  K: number,
  E: number,
  scale: number,
  T: number,
): { kl: number; dText: Float32Array } {
  if (logits.length !== N * K || zsLogits.length !== N * K) throw new RangeError(`ProGrad: logits have ${logits.length} and ${zsLogits.length} values, expected N·K = ${N}·${K}`);
  if (img.length !== N * E) throw new RangeError(`ProGrad: ${img.length} image feature values, expected N·E = ${N}·${E}`);
  const p = new Float64Array(K);
  const q = new Float64Array(K);
  const dText = new Float64Array(K * E);
  let kl = 0;
  for (let n = 0; n < N; n++) {
    softmaxRow(zsLogits, n * K, K, 1 / T, p);
    softmaxRow(logits, n * K, K, 1 / T, q);
    for (let k = 0; k < K; k++) {
      kl -= p[k] * Math.log(q[k]) * T * T;
      const g = ((T * (q[k] - p[k])) / N) * scale;
      if (g !== 0) for (let e = 0; e < E; e++) dText[k * E + e] += g * img[n * E + e];
    }
  }
  return { kl: kl / N, dText: Float32Array.from(dText) };
}

export interface ProjectedGrad {
  grad: Float32Array;
  /** cos(g_ce, g_kl); NaN when either is zero. */
  cosine: number;
  /** Whether the conflicting component was removed. */
  projected: boolean;
}

/** The official rule: if ĝ_ce · ĝ_kl < 0, g = g_ce − λ (g_ce · ĝ_kl) ĝ_kl; else g = g_ce. */
export function progradProject(gCe: ArrayLike<number>, gKl: ArrayLike<number>, lambda: number): ProjectedGrad {
  if (gCe.length !== gKl.length) throw new RangeError(`ProGrad: gradients of ${gCe.length} and ${gKl.length} values`);
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < gCe.length; i++) {
    ab += gCe[i] * gKl[i];
    aa += gCe[i] * gCe[i];
    bb += gKl[i] * gKl[i];
  }
  const cosine = ab / (Math.sqrt(aa) * Math.sqrt(bb));
  const grad = Float32Array.from(gCe);
  // NaN (a zero gradient) compares false, as torch.dot(...) < 0 does in the official code.
  if (!(cosine < 0)) return { grad, cosine, projected: false };
  const c = (lambda * ab) / bb;
  for (let i = 0; i < grad.length; i++) grad[i] = gCe[i] - c * gKl[i];
  return { grad, cosine, projected: true };
}
