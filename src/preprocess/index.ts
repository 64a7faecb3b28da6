export { CLIP_MEAN, CLIP_STD, loadPreprocessorConfig, type PreprocessConfig } from './config';
export { centerCropOffsets, roundHalfEven, shorterSideSize } from './geometry';
export { cropAndNormalize, preprocessPixels, resizeShorterSide, toRgb } from './pipeline';
export { resizeBicubic } from './resample';
export { decodeImage, MAX_IMAGE_PIXELS, type DecodedImage } from './decode';
export { sniffImageSize, type ImageSize } from './imageSize';
