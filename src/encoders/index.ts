// The page's view of the encoders: nothing exported here imports onnxruntime-web (it runs in encoders.worker.ts).
export { requestedEp, type Backend, type BackendInfo, type EpName } from './backend';
export type { ImageEncoderSpec } from './image-encoder';
export type { TextEncoderSpec, TextEncoding } from './text-encoder';
export { ImageFeatureCache } from './feature-cache';
export { featurizeImages, type BatchImageEncoder, type FeatureResult, type FeaturizeOptions } from './image-features';
export { contentHash } from './content-hash';
export { encoderFiles, type EncoderFiles, type Encoders, type ImageTower, type TextTower } from './towers';
export { openEncoders, type OpenedEncoders } from './encoders-client';
