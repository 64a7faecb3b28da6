/**
 * Image files to RGBA pixels in Node with sharp (libvips over libjpeg-turbo, the JPEG decoder PIL uses), then the
 * app's own preprocessing and augmentation take over. EXIF orientation is applied, as the app's decoder does.
 */
import sharp from 'sharp';
import { MAX_IMAGE_PIXELS } from '../preprocess';

export interface NodeImage {
  pixels: Uint8Array;
  width: number;
  height: number;
}

export async function decodeFile(bytes: Uint8Array, name: string): Promise<NodeImage> {
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
