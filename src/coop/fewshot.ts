/**
 * The few-shot training set, as Dassl's DatasetBase.generate_fewshot_dataset builds it for CoOp: the training images
 * are grouped by label, and from each class `shots` images are drawn at random without replacement (random.sample),
 * seeded by the run's seed. A class with fewer images than `shots` keeps all of them (Dassl's repeat=False; its
 * default repeat=True would instead draw with replacement, duplicating images) and the caller is told which.
 *
 * The draws come from our seeded generator (random.ts), not Python's Mersenne Twister, so the chosen images differ
 * from Dassl's for the same seed; the rule (per class, seeded, without replacement) is the same.
 */
import { createRng, deriveSeed, STREAM } from './random';

export interface FewShotResult {
  /** Indices into the training set: class by class in label order, each class's images in draw order. */
  indices: number[];
  /** Classes that had fewer images than asked for and so kept all of them. */
  short: Array<{ label: number; have: number }>;
}

export function sampleFewShot(labels: ArrayLike<number>, nClasses: number, shots: number, seed: number): FewShotResult {
  if (!(Number.isInteger(shots) && shots >= 1)) throw new RangeError(`shots must be a positive integer, got ${shots}`);
  const byClass: number[][] = Array.from({ length: nClasses }, () => []);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (!(y >= 0 && y < nClasses)) throw new RangeError(`label ${y} of image ${i} is outside 0..${nClasses - 1}`);
    byClass[y].push(i);
  }
  const indices: number[] = [];
  const short: FewShotResult['short'] = [];
  byClass.forEach((items, label) => {
    if (items.length <= shots) {
      if (items.length < shots) short.push({ label, have: items.length });
      indices.push(...items);
      return;
    }
    // A class's own stream: the draw for one class does not depend on how many images the others have.
    const rng = createRng(deriveSeed(seed, STREAM.fewshot, label));
    // Partial Fisher–Yates: the first `shots` slots are a uniform sample without replacement, in draw order.
    const pool = items.slice();
    for (let i = 0; i < shots; i++) {
      const j = i + rng.int(pool.length - i);
      [pool[i], pool[j]] = [pool[j], pool[i]];
    }
    indices.push(...pool.slice(0, shots));
  });
  return { indices, short };
}
