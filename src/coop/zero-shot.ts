/**
 * Zero-shot CLIP and prompt ensembling, the baselines CoOp is measured against (CoOp §4.1; CLIP §3.1.4):
 * a class's text feature is the normalized embedding of a hand-written prompt ("a photo of a {}."), and an image
 * is scored by logit_scale · cos(image, text). Ensembling averages a class's normalized features over several
 * templates and renormalizes the mean.
 */

/** L2-normalizes each row of a [N, E] matrix into a new array; zero rows stay zero. */
export function normalizeRows(m: ArrayLike<number>, dim: number): Float32Array {
  const n = m.length / dim;
  const out = new Float32Array(m.length);
  for (let r = 0; r < n; r++) {
    let ss = 0;
    for (let e = 0; e < dim; e++) ss += m[r * dim + e] ** 2;
    const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
    for (let e = 0; e < dim; e++) out[r * dim + e] = m[r * dim + e] * inv;
  }
  return out;
}

/** Per-template [K, E] text features → one normalized [K, E] set: mean of the normalized features, renormalized. */
export function ensembleTextFeatures(perTemplate: readonly ArrayLike<number>[], dim: number): Float32Array {
  if (perTemplate.length === 0) throw new RangeError('prompt ensembling needs at least one template');
  const len = perTemplate[0].length;
  const sum = new Float64Array(len);
  for (const t of perTemplate) {
    if (t.length !== len) throw new RangeError('templates gave text features of different sizes');
    const nt = normalizeRows(t, dim);
    for (let i = 0; i < len; i++) sum[i] += nt[i];
  }
  return normalizeRows(sum, dim);
}

/** logit_scale · cos: [N, K] from image features [N, E] and text features [K, E] (both normalized here). */
export function zeroShotLogits(imageFeatures: ArrayLike<number>, textFeatures: ArrayLike<number>, dim: number, logitScale: number): Float32Array {
  const img = normalizeRows(imageFeatures, dim);
  const txt = normalizeRows(textFeatures, dim);
  const n = img.length / dim;
  const k = txt.length / dim;
  const out = new Float32Array(n * k);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let e = 0; e < dim; e++) s += img[r * dim + e] * txt[c * dim + e];
      out[r * k + c] = logitScale * s;
    }
  }
  return out;
}

/** Row-wise softmax of [N, K] logits. */
export function softmaxRows(logits: ArrayLike<number>, k: number): Float32Array {
  const out = new Float32Array(logits.length);
  for (let r = 0; r < logits.length / k; r++) {
    let max = -Infinity;
    for (let c = 0; c < k; c++) max = Math.max(max, logits[r * k + c]);
    let z = 0;
    for (let c = 0; c < k; c++) z += Math.exp(logits[r * k + c] - max);
    for (let c = 0; c < k; c++) out[r * k + c] = Math.exp(logits[r * k + c] - max) / z;
  }
  return out;
}

/** Class probabilities softmax(logit_scale · cos), [N, K]. */
export function zeroShotProbabilities(imageFeatures: ArrayLike<number>, textFeatures: ArrayLike<number>, dim: number, logitScale: number): Float32Array {
  return softmaxRows(zeroShotLogits(imageFeatures, textFeatures, dim, logitScale), textFeatures.length / dim);
}
