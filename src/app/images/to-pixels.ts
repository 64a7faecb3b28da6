import { decodeImage, preprocessPixels, type PreprocessConfig } from '../../preprocess';

/** File → the model's input tensor for one image ([3, S, S] floats). */
export function makeToPixels(cfg: PreprocessConfig) {
  return async (blob: Blob): Promise<Float32Array> => {
    const img = await decodeImage(blob);
    return preprocessPixels(img.pixels, img.width, img.height, img.channels, cfg);
  };
}
