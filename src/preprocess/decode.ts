import { TooLargeError } from '../input-limits';
import { sniffImageSize } from './imageSize';

/** Larger images are refused: decoding one as RGBA would take over 200 MB before any resizing. */
export const MAX_IMAGE_PIXELS = 50_000_000;

// JPEG headers can sit after a large EXIF block (up to 64 KiB per segment, occasionally several).
const HEADER_BYTES = 256 * 1024;

export interface DecodedImage {
  /** Row-major RGBA, straight (not premultiplied) alpha; the preprocessing drops alpha as PIL does. */
  pixels: Uint8ClampedArray;
  width: number;
  height: number;
  channels: 4;
}

function checkSize(name: string, width: number, height: number): void {
  if (width * height > MAX_IMAGE_PIXELS) {
    const mp = (n: number) => `${Math.round(n / 1e5) / 10} megapixels`;
    throw new TooLargeError(name, `${width}×${height} (${mp(width * height)})`, mp(MAX_IMAGE_PIXELS));
  }
}

function context2d(width: number, height: number): OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D {
  // OffscreenCanvas exists in workers and modern pages; a DOM canvas covers older Safari pages.
  const canvas =
    typeof OffscreenCanvas !== 'undefined'
      ? new OffscreenCanvas(width, height)
      : Object.assign(document.createElement('canvas'), { width, height });
  const ctx = canvas.getContext('2d', { willReadFrequently: true }) as
    | OffscreenCanvasRenderingContext2D
    | CanvasRenderingContext2D
    | null;
  if (!ctx) throw new Error('No 2D canvas context is available to read image pixels');
  return ctx;
}

/**
 * Decodes a JPEG/PNG/WebP/GIF (first frame) File or Blob to RGBA pixels, in a page or a Web Worker.
 * EXIF orientation is applied (the image as the user sees it) and no colour management is done, so the
 * stored values reach the model unchanged, as with PIL.
 */
export async function decodeImage(blob: Blob, name = (blob as Partial<File>).name || 'The file'): Promise<DecodedImage> {
  const head = new Uint8Array(await blob.slice(0, HEADER_BYTES).arrayBuffer());
  const declared = sniffImageSize(head);
  if (declared) checkSize(name, declared.width, declared.height);

  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, {
      imageOrientation: 'from-image',
      premultiplyAlpha: 'none',
      colorSpaceConversion: 'none',
    });
  } catch {
    throw new Error(`${name} is not an image the browser can decode`);
  }
  try {
    const { width, height } = bitmap;
    if (width === 0 || height === 0) throw new Error(`${name} is not an image the browser can decode`);
    checkSize(name, width, height);
    const ctx = context2d(width, height);
    ctx.drawImage(bitmap, 0, 0);
    const data = ctx.getImageData(0, 0, width, height).data;
    return { pixels: data, width, height, channels: 4 };
  } finally {
    bitmap.close();
  }
}
