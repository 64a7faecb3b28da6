import { contentHash } from './content-hash';
import type { ImageFeatureCache } from './feature-cache';

/** What the image encoder offers this module; an interface so tests can use a fake tower. */
export interface BatchImageEncoder {
  readonly pixelsPerImage: number;
  encode(pixels: Float32Array, count: number): Promise<Float32Array>;
}

export interface FeaturizeOptions {
  encoder: BatchImageEncoder;
  /** Decoded and preprocessed pixels ([3, S, S] floats) of one file; throws a readable error for bad files. */
  toPixels: (blob: Blob) => Promise<Float32Array>;
  cache: ImageFeatureCache;
  /** Which model's feature space; part of the cache key. */
  modelKey: string;
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
  /** Also called with each newly preprocessed image's pixels (the e2e test compares them against Node). */
  onPixels?: (index: number, pixels: Float32Array) => void;
}

export interface FeatureResult {
  hash?: string;
  /** embedDim floats, as the tower outputs them (not normalised). */
  feature?: Float32Array;
  error?: string;
}

/**
 * Features for each blob, in order: cached ones by content hash, the rest decoded, preprocessed and
 * run through the image tower in batches. A file that cannot be read gets an error, not a throw,
 * so one bad file among many does not stop the others.
 */
export async function featurizeImages(blobs: readonly Blob[], options: FeaturizeOptions): Promise<FeatureResult[]> {
  const { encoder, cache, modelKey, batchSize = 16 } = options;
  const results: FeatureResult[] = blobs.map(() => ({}));
  let done = 0;
  const report = () => options.onProgress?.(done, blobs.length);
  report();

  let pending: Array<{ index: number; hash: string; pixels: Float32Array }> = [];
  const flush = async () => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    const pixels = new Float32Array(batch.length * encoder.pixelsPerImage);
    batch.forEach((p, i) => pixels.set(p.pixels, i * encoder.pixelsPerImage));
    const embeds = await encoder.encode(pixels, batch.length);
    const dim = embeds.length / batch.length;
    batch.forEach((p, i) => {
      const feature = embeds.slice(i * dim, (i + 1) * dim);
      cache.set(modelKey, p.hash, feature);
      results[p.index] = { hash: p.hash, feature };
    });
    done += batch.length;
    report();
  };

  for (let index = 0; index < blobs.length; index++) {
    let hash: string;
    try {
      hash = await contentHash(await blobs[index].arrayBuffer());
    } catch (e) {
      results[index] = { error: `could not be read: ${(e as Error).message}` };
      done++;
      report();
      continue;
    }
    const cached = cache.get(modelKey, hash);
    // A duplicate within this same drop is found once its first copy's batch has run.
    const samePending = pending.find((p) => p.hash === hash);
    if (cached) {
      results[index] = { hash, feature: cached };
      done++;
      report();
      continue;
    }
    if (samePending) {
      await flush();
      results[index] = { hash, feature: cache.get(modelKey, hash) };
      done++;
      report();
      continue;
    }
    try {
      const pixels = await options.toPixels(blobs[index]);
      if (pixels.length !== encoder.pixelsPerImage) {
        throw new Error(`preprocessing gave ${pixels.length} values, expected ${encoder.pixelsPerImage}`);
      }
      options.onPixels?.(index, pixels);
      pending.push({ index, hash, pixels });
    } catch (e) {
      results[index] = { hash, error: (e as Error).message };
      done++;
      report();
      continue;
    }
    if (pending.length >= batchSize) await flush();
  }
  await flush();
  return results;
}
