/// <reference lib="webworker" />
import { decodeImage, preprocessPixels, type PreprocessConfig } from '../../preprocess';

export interface PreprocessRequest {
  id: number;
  blob: Blob;
  name: string;
  cfg: PreprocessConfig;
}

export type PreprocessReply = { id: number; pixels: Float32Array } | { id: number; error: string };

// Decoding and bicubic resizing of a camera photo take long enough to stall the page, so they run here.
self.onmessage = async ({ data }: MessageEvent<PreprocessRequest>) => {
  const { id, blob, name, cfg } = data;
  try {
    const img = await decodeImage(blob, name);
    const pixels = preprocessPixels(img.pixels, img.width, img.height, img.channels, cfg);
    self.postMessage({ id, pixels } satisfies PreprocessReply, [pixels.buffer]);
  } catch (e) {
    self.postMessage({ id, error: (e as Error).message } satisfies PreprocessReply);
  }
};
