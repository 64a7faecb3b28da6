/** Scoring helpers shared by the trainer, zero-shot and the linear probe. Scores are row-major [N, K]. */

export function argmaxRows(scores: ArrayLike<number>, nRows: number, nCols: number): Int32Array {
  if (scores.length !== nRows * nCols) throw new RangeError(`scores have ${scores.length} values, expected ${nRows}×${nCols}`);
  const out = new Int32Array(nRows);
  for (let r = 0; r < nRows; r++) {
    let best = 0;
    let bestV = scores[r * nCols];
    // Strictly greater keeps the first maximum, as torch/numpy argmax.
    for (let c = 1; c < nCols; c++) {
      const v = scores[r * nCols + c];
      if (v > bestV) {
        bestV = v;
        best = c;
      }
    }
    out[r] = best;
  }
  return out;
}

/** Fraction in [0, 1] of predictions equal to labels; 0 for an empty set. */
export function accuracy(predictions: ArrayLike<number>, labels: ArrayLike<number>): number {
  if (predictions.length !== labels.length) throw new RangeError('predictions and labels differ in length');
  if (labels.length === 0) return 0;
  let hit = 0;
  for (let i = 0; i < labels.length; i++) if (predictions[i] === labels[i]) hit++;
  return hit / labels.length;
}

/** Accuracy of row-major [N, K] scores. */
export function scoreAccuracy(scores: ArrayLike<number>, labels: ArrayLike<number>, nClasses: number): number {
  return accuracy(argmaxRows(scores, labels.length, nClasses), labels);
}

/** confusion[t][p]: how many images of true class t were predicted as p. */
export function confusionMatrix(predictions: ArrayLike<number>, labels: ArrayLike<number>, nClasses: number): number[][] {
  if (predictions.length !== labels.length) throw new RangeError('predictions and labels differ in length');
  const m = Array.from({ length: nClasses }, () => new Array<number>(nClasses).fill(0));
  for (let i = 0; i < labels.length; i++) m[labels[i]][predictions[i]]++;
  return m;
}

/** Recall per class; NaN for a class with no images, so the UI can show "—" rather than a fake 0. */
export function perClassAccuracy(predictions: ArrayLike<number>, labels: ArrayLike<number>, nClasses: number): number[] {
  return confusionMatrix(predictions, labels, nClasses).map((row, c) => {
    const total = row.reduce((s, x) => s + x, 0);
    return total === 0 ? NaN : row[c] / total;
  });
}
