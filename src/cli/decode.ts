/**
 * Image files to RGBA pixels in Node with sharp (libvips over libjpeg-turbo, the JPEG decoder PIL uses), then the
 * app's own preprocessing and augmentation take over. EXIF orientation is applied, as the app's decoder does.
 */
import type Sharp from 'sharp';
import { TooLargeError } from '../input-limits';
import { MAX_IMAGE_PIXELS, sniffImageSize } from '../preprocess';

// Imported on first use (a variable specifier, so bundlers leave the native module alone): a command whose image
// features all come from the cache never decodes, and runs where sharp is not installed (src/cli/image-features.ts).
let sharpModule: Promise<typeof Sharp> | null = null;
export function loadSharp(): Promise<typeof Sharp> {
  const spec = 'sharp';
  sharpModule ??= (import(/* @vite-ignore */ spec) as Promise<{ default: typeof Sharp }>).then(
    (m) => m.default,
    (e: Error) => {
      sharpModule = null;
      throw new Error(`sharp, which decodes image files, could not be loaded (${e.message.split('\n')[0]}): install it (npm install)`);
    },
  );
  return sharpModule;
}

export interface NodeImage {
  pixels: Uint8Array;
  width: number;
  height: number;
}

export async function decodeFile(bytes: Uint8Array, name: string): Promise<NodeImage> {
  // The header's declared size first, so the message says the size and the limit (sharp's own only says "exceeds").
  const declared = sniffImageSize(bytes.subarray(0, 256 * 1024));
  if (declared && declared.width * declared.height > MAX_IMAGE_PIXELS) {
    const mp = (n: number) => `${Math.round(n / 1e5) / 10} megapixels`;
    throw new TooLargeError(name, `${declared.width}×${declared.height} (${mp(declared.width * declared.height)})`, mp(MAX_IMAGE_PIXELS));
  }
  const sharp = await loadSharp();
  let out: { data: Buffer; info: { width: number; height: number; channels: number } };
  try {
    out = await sharp(bytes, { limitInputPixels: MAX_IMAGE_PIXELS, failOn: 'error' })
      .rotate()
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (e) {
    const why = (e as Error).message.replace(/\s+/g, ' ').trim();
    throw new Error(`${name} could not be decoded as an image (${why})`);
  }
  const { data, info } = out;
  if (info.channels !== 4) throw new Error(`${name} decoded to ${info.channels} channels, expected RGBA`);
  return { pixels: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
}
