import type { ImageItem } from '../store/zero-shot-store';
import { topK, zeroShotProbabilities } from './scores';

export interface ImageResult {
  item: ImageItem;
  /** Whether the image has a feature from the current model. */
  encoded: boolean;
  /** Best classes first, with probabilities; empty while features are pending or on error. */
  top: Array<{ name: string; p: number }>;
  /** For labelled images: whether the top class is the label. */
  correct?: boolean;
}

/** Each image's top classes under the current class features. */
export function scoreImages(
  images: readonly ImageItem[],
  names: readonly string[],
  classFeatures: Float32Array | null,
  logitScale: number,
  runtimeKey: string,
  shown = 3,
): ImageResult[] {
  return images.map((item) => {
    const encoded = !!item.feature && item.featureKey === runtimeKey;
    if (!classFeatures || !item.feature || !encoded) return { item, encoded, top: [] };
    const probs = zeroShotProbabilities(item.feature, classFeatures, logitScale);
    const top = topK(probs, Math.min(shown, names.length)).map((k) => ({ name: names[k], p: probs[k] }));
    const correct = item.label === undefined ? undefined : top[0]?.name === item.label;
    return { item, encoded, top, correct };
  });
}

/** Accuracy over labelled images whose label is one of the current classes. */
export function accuracyOf(results: readonly ImageResult[]): { correct: number; total: number } | null {
  const scored = results.filter((r) => r.correct !== undefined);
  if (scored.length === 0) return null;
  return { correct: scored.filter((r) => r.correct).length, total: scored.length };
}
