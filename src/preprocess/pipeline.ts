import type { PreprocessConfig } from './config';
import { centerCropOffsets, shorterSideSize } from './geometry';
import { resizeBicubic } from './resample';

/** Keeps the first three channels: PIL's convert('RGB') drops alpha rather than compositing it. */
export function toRgb(pixels: Uint8Array | Uint8ClampedArray, width: number, height: number, channels: number): Uint8Array {
  if (channels !== 3 && channels !== 4) throw new Error(`Expected 3 or 4 channels, got ${channels}`);
  if (pixels.length !== width * height * channels) {
    throw new Error(`Pixel buffer has ${pixels.length} bytes, expected ${width}x${height}x${channels}`);
  }
  if (channels === 3) return pixels instanceof Uint8Array ? pixels : new Uint8Array(pixels);
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; j < rgb.length; i += 4, j += 3) {
    rgb[j] = pixels[i];
    rgb[j + 1] = pixels[i + 1];
    rgb[j + 2] = pixels[i + 2];
  }
  return rgb;
}

/** The resized (shorter side = shortestEdge) RGB image, as PIL's uint8 result. */
export function resizeShorterSide(
  rgb: Uint8Array,
  width: number,
  height: number,
  shortestEdge: number,
): { pixels: Uint8Array; width: number; height: number } {
  const out = shorterSideSize(width, height, shortestEdge);
  return { pixels: resizeBicubic(rgb, width, height, 3, out.width, out.height), ...out };
}

/**
 * Center crop, /255, (x - mean) / std, laid out as NCHW with N = 1. Each step rounds to float32, as
 * torchvision's ToTensor + Normalize do on float32 tensors, so results match them bit for bit.
 */
export function cropAndNormalize(
  rgb: Uint8Array,
  width: number,
  height: number,
  cfg: PreprocessConfig,
): Float32Array {
  const { cropWidth: cw, cropHeight: ch } = cfg;
  const { left, top } = centerCropOffsets(width, height, cw, ch);
  const out = new Float32Array(3 * ch * cw);
  const f = Math.fround;
  for (let c = 0; c < 3; c++) {
    const mean = f(cfg.mean[c]);
    const std = f(cfg.std[c]);
    const plane = c * ch * cw;
    for (let y = 0; y < ch; y++) {
      const sy = y + top;
      for (let x = 0; x < cw; x++) {
        const sx = x + left;
        const inside = sy >= 0 && sy < height && sx >= 0 && sx < width;
        const v = inside ? rgb[(sy * width + sx) * 3 + c] : 0;
        out[plane + y * cw + x] = f(f(f(v / 255) - mean) / std);
      }
    }
  }
  return out;
}

/** CLIP's image transform on decoded pixels (RGB or RGBA, row-major): a [1, 3, cropH, cropW] float32 tensor. */
export function preprocessPixels(
  pixels: Uint8Array | Uint8ClampedArray,
  width: number,
  height: number,
  channels: number,
  cfg: PreprocessConfig,
): Float32Array {
  const rgb = toRgb(pixels, width, height, channels);
  const resized = resizeShorterSide(rgb, width, height, cfg.shortestEdge);
  return cropAndNormalize(resized.pixels, resized.width, resized.height, cfg);
}
