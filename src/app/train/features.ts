/**
 * Image features for training and evaluation, computed on the page by the model's ORT image tower:
 * - clean features (CLIP's resize + center crop) for evaluation, the baselines and the predict panel, through the
 *   shared content-hash cache;
 * - CoOp's augmented views (random resized crop 0.08–1 + flip, src/coop/augment.ts), encoded once per image and
 *   view and cached here, so more views later or another run reuse them.
 * All features leave this module L2-normalized, as CoOp's image features are.
 */
import { imageKeyFromHash as imageKey, imageViewSeed, makeViews } from '../../coop/augment';
import { normalizeRows } from '../../coop/zero-shot';
import { contentHash, featurizeImages } from '../../encoders';
import { decodeImage } from '../../preprocess';
import { makeToPixels } from '../images/to-pixels';
import { imageFeatureCache } from '../store/feature-cache';
import type { ModelRuntime } from '../store/model-store';

export interface FeatureOutcome {
  /** [N, E], rows of failed images left zero. */
  features: Float32Array;
  /** Index → readable error, naming the file. */
  errors: Map<number, string>;
}

export type Progress = (done: number, total: number) => void;

export async function cleanFeatures(
  items: ReadonlyArray<{ blob: Blob; name: string }>,
  runtime: ModelRuntime,
  onProgress?: Progress,
): Promise<FeatureOutcome> {
  const dim = runtime.model.manifest.embed_dim;
  const results = await featurizeImages(
    items.map((i) => i.blob),
    {
      encoder: runtime.encoders.image,
      toPixels: makeToPixels(runtime.preprocess),
      cache: imageFeatureCache,
      modelKey: runtime.key,
      onProgress,
    },
  );
  const features = new Float32Array(items.length * dim);
  const errors = new Map<number, string>();
  results.forEach((r, i) => {
    if (r.feature) features.set(normalizeRows(r.feature, dim), i * dim);
    else errors.set(i, withName(r.error ?? 'could not be encoded', items[i].name));
  });
  return { features, errors };
}

/** Decoder messages usually start with the file's name already; others get it prepended. */
function withName(message: string, name: string): string {
  return message.includes(name) ? message : `${name}: ${message}`;
}

const viewCache = new Map<string, Float32Array>();

/**
 * `nViews` augmented views of every image, [N, V, E]. View v of an image depends only on (seed, its content, v).
 * Images are encoded in batches so a drop of a hundred images does not run the tower a thousand times one by one.
 */
export async function viewFeatures(
  items: ReadonlyArray<{ blob: Blob; name: string }>,
  nViews: number,
  seed: number,
  runtime: ModelRuntime,
  onProgress?: Progress,
): Promise<FeatureOutcome> {
  const dim = runtime.model.manifest.embed_dim;
  const encoder = runtime.encoders.image;
  const features = new Float32Array(items.length * nViews * dim);
  const errors = new Map<number, string>();
  const total = items.length * nViews;
  let done = 0;
  const batchImages = Math.max(1, Math.floor(32 / nViews));
  let pending: Array<{ index: number; keys: string[]; pixels: Float32Array[] }> = [];

  const flush = async () => {
    if (pending.length === 0) return;
    const jobs = pending.flatMap((p) => p.pixels.map((px, v) => ({ p, px, v })));
    pending = [];
    const pixels = new Float32Array(jobs.length * encoder.pixelsPerImage);
    jobs.forEach((j, i) => pixels.set(j.px, i * encoder.pixelsPerImage));
    const embeds = normalizeRows(await encoder.encode(pixels, jobs.length), dim);
    jobs.forEach((j, i) => {
      const f = embeds.slice(i * dim, (i + 1) * dim);
      viewCache.set(j.p.keys[j.v], f);
      features.set(f, (j.p.index * nViews + j.v) * dim);
    });
    done += jobs.length;
    onProgress?.(done, total);
  };

  for (let index = 0; index < items.length; index++) {
    const { blob, name } = items[index];
    try {
      const hash = await contentHash(await blob.arrayBuffer());
      const keys = Array.from({ length: nViews }, (_, v) => `${runtime.key}|${hash}|${seed}|${v}`);
      const missing = keys.filter((k) => !viewCache.has(k));
      if (missing.length === 0) {
        keys.forEach((k, v) => features.set(viewCache.get(k)!, (index * nViews + v) * dim));
        done += nViews;
        onProgress?.(done, total);
        continue;
      }
      const img = await decodeImage(blob, name);
      const views = makeViews(img.pixels, img.width, img.height, nViews, imageViewSeed(seed, imageKey(hash)), runtime.preprocess);
      pending.push({ index, keys, pixels: views });
    } catch (e) {
      errors.set(index, withName((e as Error).message, name));
      done += nViews;
      onProgress?.(done, total);
      continue;
    }
    if (pending.length >= batchImages) await flush();
  }
  await flush();
  return { features, errors };
}
