/**
 * CoOp's training augmentation (Dassl's train transform: random_resized_crop + random_flip), applied once per
 * cached view rather than afresh each epoch (tools/toy-clip/demo.py random_resized_crop):
 * torchvision RandomResizedCrop (scale 0.08–1, ratio 3/4–4/3, 10 tries, then its center-crop fallback), the crop
 * resized straight to the model's input size with PIL's bicubic filter (no further center crop), a horizontal flip
 * with probability 0.5, then CLIP's normalization.
 *
 * Python's round() (half to even) is used where torchvision rounds, so crop boxes match its arithmetic; the random
 * draws themselves come from our seeded generator, not torch's.
 */
import { cropAndNormalize, resizeBicubic, roundHalfEven, type PreprocessConfig } from '../preprocess';
import { createRng, deriveSeed, STREAM, type Rng } from './random';

export interface CropRect {
  left: number;
  top: number;
  width: number;
  height: number;
}

export const CROP_SCALE: readonly [number, number] = [0.08, 1];
export const CROP_RATIO: readonly [number, number] = [3 / 4, 4 / 3];

/** torchvision RandomResizedCrop.get_params. */
export function randomResizedCropRect(
  width: number,
  height: number,
  rng: Rng,
  scale: readonly [number, number] = CROP_SCALE,
  ratio: readonly [number, number] = CROP_RATIO,
): CropRect {
  const area = width * height;
  const logLo = Math.log(ratio[0]);
  const logHi = Math.log(ratio[1]);
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * rng.uniform(scale[0], scale[1]);
    const aspect = Math.exp(rng.uniform(logLo, logHi));
    const w = roundHalfEven(Math.sqrt(target * aspect));
    const h = roundHalfEven(Math.sqrt(target / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const top = rng.int(height - h + 1);
      const left = rng.int(width - w + 1);
      return { left, top, width: w, height: h };
    }
  }
  // Fallback: the largest centred crop whose aspect ratio lies within the allowed range.
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < Math.min(...ratio)) h = roundHalfEven(w / Math.min(...ratio));
  else if (inRatio > Math.max(...ratio)) w = roundHalfEven(h * Math.max(...ratio));
  return { left: Math.floor((width - w) / 2), top: Math.floor((height - h) / 2), width: w, height: h };
}

/** The rect's RGB pixels out of an RGBA buffer (alpha dropped as PIL's convert('RGB') does). */
export function cropRgb(rgba: Uint8Array | Uint8ClampedArray, width: number, rect: CropRect): Uint8Array {
  const out = new Uint8Array(rect.width * rect.height * 3);
  for (let y = 0; y < rect.height; y++) {
    for (let x = 0; x < rect.width; x++) {
      const s = ((rect.top + y) * width + rect.left + x) * 4;
      const d = (y * rect.width + x) * 3;
      out[d] = rgba[s];
      out[d + 1] = rgba[s + 1];
      out[d + 2] = rgba[s + 2];
    }
  }
  return out;
}

/** Mirrors an interleaved RGB image left-right in place. */
export function flipHorizontal(rgb: Uint8Array, width: number, height: number): Uint8Array {
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width >> 1; x++) {
      const a = (y * width + x) * 3;
      const b = (y * width + width - 1 - x) * 3;
      for (let c = 0; c < 3; c++) {
        const t = rgb[a + c];
        rgb[a + c] = rgb[b + c];
        rgb[b + c] = t;
      }
    }
  }
  return rgb;
}

export interface ViewParams {
  rect: CropRect;
  flip: boolean;
}

/** The crop and flip of one view, drawn in torchvision's order (crop parameters, then the flip coin). */
export function drawView(width: number, height: number, rng: Rng): ViewParams {
  const rect = randomResizedCropRect(width, height, rng);
  return { rect, flip: rng.next() < 0.5 };
}

/** One view as a normalized [1, 3, H, W] tensor at the model's input size (cfg.cropHeight × cfg.cropWidth). */
export function renderView(
  rgba: Uint8Array | Uint8ClampedArray,
  width: number,
  view: ViewParams,
  cfg: PreprocessConfig,
): Float32Array {
  const { rect, flip } = view;
  const crop = cropRgb(rgba, width, rect);
  const resized = resizeBicubic(crop, rect.width, rect.height, 3, cfg.cropWidth, cfg.cropHeight);
  // Flipping after the resize, as demo.py does, keeps PIL's rounding identical to the reference.
  if (flip) flipHorizontal(resized, cfg.cropWidth, cfg.cropHeight);
  return cropAndNormalize(resized, cfg.cropWidth, cfg.cropHeight, cfg);
}

/** The first 32 bits of an image's SHA-256 content hash (hex): its views then depend on its content, not its position. */
export function imageKeyFromHash(hash: string): number {
  return Number.parseInt(hash.slice(0, 8), 16) >>> 0;
}

/** Seed for one training image's views, so adding or removing other images leaves its views unchanged. */
export function imageViewSeed(runSeed: number, imageKey: number): number {
  return deriveSeed(runSeed, STREAM.augment, imageKey);
}

/**
 * `nViews` augmented views of one RGBA image, each a normalized NCHW tensor ready for the image encoder.
 * View v depends only on (seed, v): asking for more views later extends the set without changing the first ones.
 */
export function makeViews(
  rgba: Uint8Array | Uint8ClampedArray,
  width: number,
  height: number,
  nViews: number,
  seed: number,
  cfg: PreprocessConfig,
): Float32Array[] {
  if (rgba.length !== width * height * 4) throw new RangeError(`RGBA buffer has ${rgba.length} bytes, expected ${width}×${height}×4`);
  const views: Float32Array[] = [];
  for (let v = 0; v < nViews; v++) {
    const rng = createRng(deriveSeed(seed, STREAM.augment, v));
    views.push(renderView(rgba, width, drawView(width, height, rng), cfg));
  }
  return views;
}
