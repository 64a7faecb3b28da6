/**
 * The picture behind "watch the prompts move": the image features on their first two principal axes, and each
 * class's zero-shot and learned text features on the same axes. CoOp classifies by cos(image, text); the part of a
 * text feature shared by every class adds the same to every class's logit, so each text set is drawn centred on its
 * own class mean (what tells the classes apart), scaled by one factor (the zero-shot set's spread to the images'),
 * the same for zero-shot and learned, so how far the learned prompts moved is drawn to scale.
 */
import { fitPca2, projectPca2, rowMean, type Pca2 } from '../../coop/pca';

/** The fit is over at most this many images (evenly spaced): enough for the axes, cheap on any page. */
export const MAX_FIT_ROWS = 3000;

export interface ImageMap {
  pca: Pca2;
  /** [N, 2] coordinates of every image. */
  xy: Float32Array;
  /** Share of the images' total variance on each axis, in [0, 1]. */
  explained: [number, number];
}

export function fitImageMap(features: Float32Array, n: number, dim: number): ImageMap {
  const stride = Math.max(1, Math.ceil(n / MAX_FIT_ROWS));
  let fit = features;
  let m = n;
  if (stride > 1) {
    m = Math.ceil(n / stride);
    fit = new Float32Array(m * dim);
    for (let i = 0; i < m; i++) fit.set(features.subarray(i * stride * dim, (i * stride + 1) * dim), i * dim);
  }
  const pca = fitPca2(fit, m, dim);
  let total = 0;
  for (let r = 0; r < m; r++) for (let j = 0; j < dim; j++) total += (fit[r * dim + j] - pca.mean[j]) ** 2;
  total /= m;
  const explained: [number, number] = total > 0 ? [pca.variances[0] / total, pca.variances[1] / total] : [0, 0];
  return { pca, xy: projectPca2(pca, features, n), explained };
}

/** Root mean square distance of 2-D points from their mean. */
export function spread(xy: Float32Array): number {
  const n = xy.length / 2;
  if (!n) return 0;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += xy[2 * i] / n;
    my += xy[2 * i + 1] / n;
  }
  let s = 0;
  for (let i = 0; i < n; i++) s += (xy[2 * i] - mx) ** 2 + (xy[2 * i + 1] - my) ** 2;
  return Math.sqrt(s / n);
}

/** [K, 2] coordinates of K text features (row-major [K, dim]), centred on their own mean and multiplied by `scale`. */
export function textXY(pca: Pca2, text: Float32Array, scale: number): Float32Array {
  const k = text.length / pca.dim;
  const xy = projectPca2(pca, text, k, rowMean(text, k, pca.dim));
  for (let i = 0; i < xy.length; i++) xy[i] *= scale;
  return xy;
}

/** The factor that gives the zero-shot text set the images' spread on the plot. */
export function textScale(imageXY: Float32Array, pca: Pca2, zeroShot: Float32Array): number {
  const raw = textXY(pca, zeroShot, 1);
  const t = spread(raw);
  return t > 0 ? spread(imageXY) / t : 1;
}

/** Mean over classes of cos(learned, zero-shot): 1 where nothing moved. Both sets [K, dim]. */
export function meanCosine(a: Float32Array, b: Float32Array, dim: number): number {
  const k = Math.min(a.length, b.length) / dim;
  if (!k) return NaN;
  let sum = 0;
  for (let c = 0; c < k; c++) {
    let ab = 0;
    let aa = 0;
    let bb = 0;
    for (let j = 0; j < dim; j++) {
      const x = a[c * dim + j];
      const y = b[c * dim + j];
      ab += x * y;
      aa += x * x;
      bb += y * y;
    }
    sum += ab / Math.sqrt(aa * bb || 1);
  }
  return sum / k;
}
