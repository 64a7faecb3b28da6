/**
 * Which cached view of which image goes into which step (tools/toy-clip/coop.py train()): each epoch is a random
 * permutation of the training images, and each image contributes one of its augmented views, drawn afresh per epoch.
 * Batches are consecutive slices of the permutation. As Dassl's train loader (drop_last), the last partial batch
 * is dropped when there is at least one full batch; a set smaller than one batch trains as a single smaller batch.
 *
 * An epoch's plan depends only on (seed, epoch), so a resumed run replays exactly what an uninterrupted one would.
 */
import { createRng, deriveSeed, permutation, STREAM } from './random';

export interface Batch {
  /** Training-image indices. */
  images: Int32Array;
  /** For each image in `images`, which of its augmented views to use. */
  views: Int32Array;
}

export function batchesPerEpoch(nImages: number, batchSize: number): number {
  if (nImages <= 0) return 0;
  return nImages >= batchSize ? Math.floor(nImages / batchSize) : 1;
}

export interface EpochPlanOptions {
  nImages: number;
  nViews: number;
  batchSize: number;
  seed: number;
  /** 0-based. */
  epoch: number;
}

export function epochPlan({ nImages, nViews, batchSize, seed, epoch }: EpochPlanOptions): Batch[] {
  if (!(batchSize >= 1)) throw new RangeError(`batch size must be at least 1, got ${batchSize}`);
  if (!(nViews >= 1)) throw new RangeError(`each image needs at least one view, got ${nViews}`);
  const rng = createRng(deriveSeed(seed, STREAM.sampler, epoch));
  const order = permutation(nImages, rng);
  // Drawn per image (not per batch slot), as coop.py's views[idx].
  const viewOf = new Int32Array(nImages);
  for (let i = 0; i < nImages; i++) viewOf[i] = rng.int(nViews);
  const nb = batchesPerEpoch(nImages, batchSize);
  const out: Batch[] = [];
  for (let b = 0; b < nb; b++) {
    const images = order.slice(b * batchSize, Math.min((b + 1) * batchSize, nImages));
    out.push({ images, views: images.map((i) => viewOf[i]) });
  }
  return out;
}

/**
 * Gathers a batch's cached view features, [N, V, E] row-major, into [B, E], and its labels.
 */
export function gatherBatch(
  batch: Batch,
  viewFeatures: Float32Array,
  nViews: number,
  dim: number,
  labels: ArrayLike<number>,
): { features: Float32Array; labels: Int32Array } {
  const b = batch.images.length;
  const features = new Float32Array(b * dim);
  const out = new Int32Array(b);
  for (let r = 0; r < b; r++) {
    const img = batch.images[r];
    const start = (img * nViews + batch.views[r]) * dim;
    features.set(viewFeatures.subarray(start, start + dim), r * dim);
    out[r] = labels[img];
  }
  return { features, labels: out };
}
