/**
 * The app's side of coop-adapter files (src/coop/adapter-file.ts): the file of a fitted CLAP, LP++, TaskRes or
 * CLIP-Adapter, with the content the command line writes, and the scoring of an imported one on the page's images.
 * Host-free: the store encodes the images, this turns features into predictions.
 */
import { adapterClasses, adapterLogits, type AdapterWeights, type FeatureFitResult } from '../../coop/adapter-methods';
import type { AdapterFile } from '../../coop/adapter-file';

export interface ModelRef {
  id: string;
  imageFingerprint: string;
}

/** The file for a fit: settings with shots and seed, metrics as `<split>_acc` (base-to-new `test/base` → `test_base_acc`). */
export function adapterFileOf(fit: FeatureFitResult, classNames: readonly string[], model: ModelRef, extra: { shots: number; seed: number }, created = new Date()): AdapterFile {
  return {
    model: { ...model },
    classNames: [...classNames],
    weights: fit.weights,
    settings: { ...fit.settings, shots: extra.shots, seed: extra.seed },
    metrics: Object.fromEntries(Object.entries(fit.accuracies).map(([s, a]) => [`${s.replace('/', '_')}_acc`, a])),
    created: created.toISOString(),
  };
}

/** One page image to score: its split and the name of the class it is labelled with. */
export interface ScoredImage {
  split: string;
  className: string;
}

export interface AdapterScore {
  /** Per split, in [0, 1], over the images whose class the file knows. */
  accuracies: Record<string, number>;
  /** Per image (in the given order), the predicted class name; null for an image whose class the file does not know. */
  predictions: Array<string | null>;
  /** Images left out: their class is not among the file's. */
  unknown: number;
}

/** Predicts every image with the file's weights (features [N, dim], L2-normalized, as CoOp's). */
export function scoreAdapter(weights: AdapterWeights, classNames: readonly string[], images: readonly ScoredImage[], features: Float32Array, dim: number): AdapterScore {
  const K = adapterClasses(weights, dim);
  const logits = adapterLogits(weights, features, dim);
  const index = new Map(classNames.map((n, i) => [n, i]));
  const hits: Record<string, [number, number]> = {};
  let unknown = 0;
  const predictions = images.map((img, r) => {
    const label = index.get(img.className);
    if (label === undefined) {
      unknown++;
      return null;
    }
    let best = 0;
    for (let k = 1; k < K; k++) if (logits[r * K + k] > logits[r * K + best]) best = k;
    const h = (hits[img.split] ??= [0, 0]);
    h[0] += best === label ? 1 : 0;
    h[1]++;
    return classNames[best];
  });
  const accuracies = Object.fromEntries(Object.entries(hits).map(([s, [c, n]]) => [s, c / n]));
  return { accuracies, predictions, unknown };
}

/** Class probabilities of one image (softmax of the file's logits), for the Predict panel. */
export function adapterProbabilities(weights: AdapterWeights, feature: Float32Array, dim: number): Float32Array {
  const z = adapterLogits(weights, feature, dim);
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}
