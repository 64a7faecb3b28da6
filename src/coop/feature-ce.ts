/**
 * The cross-entropy the prompt learners share, formed on the host from the rows the tower returned (tower.ts
 * FeatureLoss): logits[b, k] = scale · f_b · t_{row(b, k)}, loss = mean_b −log softmax(logits_b)[y_b], as
 * F.cross_entropy with its default mean reduction.
 *
 * The row map is what differs between methods: CoOp and deep prompting score every image against the same K rows
 * (row k), CoCoOp against its own (row b·K + k). The gradient on the normalized text features is
 * d loss / d t_{row(b,k)} = scale · (p_bk − [k = y_b]) / B · f_b, summed when rows are shared by images.
 * Arithmetic in Float64; the features come in as stored (Float32).
 */

export interface FeatureCeShape {
  /** Images in the batch. */
  B: number;
  /** Classes. */
  K: number;
  /** Feature width. */
  E: number;
  /** exp(logit_scale), as CLIP multiplies cosine similarities. */
  scale: number;
  /** The text-feature row image b is scored against for class k. */
  row: (b: number, k: number) => number;
  /** Rows of text features. */
  R: number;
}

export interface FeatureCeResult {
  loss: number;
  /** [B, K]. */
  logits: Float32Array;
  /** d loss / d (normalized text features), [R, E]. */
  dTxt: Float64Array;
}

/** The scored logits [B, K] alone (evaluation). */
export function featureLogits(img: ArrayLike<number>, txt: ArrayLike<number>, s: Omit<FeatureCeShape, 'R'>): Float64Array {
  const { B, K, E, scale, row } = s;
  const logits = new Float64Array(B * K);
  for (let b = 0; b < B; b++) {
    for (let k = 0; k < K; k++) {
      const r = row(b, k);
      let dot = 0;
      for (let e = 0; e < E; e++) dot += img[b * E + e] * txt[r * E + e];
      logits[b * K + k] = scale * dot;
    }
  }
  return logits;
}

export function featureCrossEntropy(img: ArrayLike<number>, txt: ArrayLike<number>, labels: ArrayLike<number>, s: FeatureCeShape): FeatureCeResult {
  const { B, K, E, scale, row, R } = s;
  if (img.length !== B * E) throw new RangeError(`image features have ${img.length} values, expected B·E = ${B}·${E}`);
  if (txt.length !== R * E) throw new RangeError(`text features have ${txt.length} values, expected R·E = ${R}·${E}`);
  if (labels.length !== B) throw new RangeError(`${labels.length} labels for ${B} images`);
  const logits = featureLogits(img, txt, s);
  const dTxt = new Float64Array(R * E);
  let loss = 0;
  const p = new Float64Array(K);
  for (let b = 0; b < B; b++) {
    const y = labels[b];
    if (!(Number.isInteger(y) && y >= 0 && y < K)) throw new RangeError(`label ${y} of image ${b} is not one of 0..${K - 1}`);
    let max = -Infinity;
    for (let k = 0; k < K; k++) max = Math.max(max, logits[b * K + k]);
    let sum = 0;
    for (let k = 0; k < K; k++) sum += (p[k] = Math.exp(logits[b * K + k] - max));
    loss += max + Math.log(sum) - logits[b * K + y];
    for (let k = 0; k < K; k++) {
      const g = (scale * (p[k] / sum - (k === y ? 1 : 0))) / B;
      const r = row(b, k);
      for (let e = 0; e < E; e++) dTxt[r * E + e] += g * img[b * E + e];
    }
  }
  return { loss: loss / B, logits: Float32Array.from(logits), dTxt };
}
