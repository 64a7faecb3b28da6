/** Unit-length copy of row `r` of a row-major [rows, dim] matrix (all rows when r is omitted). */
export function normalizeRows(m: Float32Array, dim: number): Float32Array {
  const out = new Float32Array(m.length);
  for (let r = 0; r < m.length / dim; r++) {
    let ss = 0;
    for (let i = 0; i < dim; i++) ss += m[r * dim + i] ** 2;
    const inv = 1 / Math.max(Math.sqrt(ss), 1e-12);
    for (let i = 0; i < dim; i++) out[r * dim + i] = m[r * dim + i] * inv;
  }
  return out;
}

/**
 * Class features from text features of K classes × T templates (row k·T + t): each row normalised,
 * averaged over templates, renormalised, as CLIP's prompt-ensembling notebook does. T = 1 is the
 * plain single-template case.
 */
export function ensembleClassFeatures(text: Float32Array, classes: number, templates: number, dim: number): Float32Array {
  const unit = normalizeRows(text, dim);
  const mean = new Float32Array(classes * dim);
  for (let k = 0; k < classes; k++) {
    for (let t = 0; t < templates; t++) {
      const row = (k * templates + t) * dim;
      for (let i = 0; i < dim; i++) mean[k * dim + i] += unit[row + i] / templates;
    }
  }
  return normalizeRows(mean, dim);
}

/** softmax(logitScale · cos(image, class_k)) over the K classes; classFeatures must be unit rows. */
export function zeroShotProbabilities(
  image: Float32Array,
  classFeatures: Float32Array,
  logitScale: number,
): Float32Array {
  const dim = image.length;
  const k = classFeatures.length / dim;
  const img = normalizeRows(image, dim);
  const logits = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    let dot = 0;
    for (let i = 0; i < dim; i++) dot += img[i] * classFeatures[c * dim + i];
    logits[c] = logitScale * dot;
  }
  const max = Math.max(...logits);
  let sum = 0;
  for (let c = 0; c < k; c++) sum += (logits[c] = Math.exp(logits[c] - max));
  return Float32Array.from(logits, (v) => v / sum);
}

/** Indices of the n largest values, largest first (ties keep the earlier class first). */
export function topK(values: ArrayLike<number>, n: number): number[] {
  return Array.from({ length: values.length }, (_, i) => i)
    .sort((a, b) => values[b] - values[a] || a - b)
    .slice(0, n);
}
