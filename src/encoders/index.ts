export { chooseBackend, requestedEp, type Backend, type EpName } from './backend';
export { ClipImageEncoder, type ImageEncoderSpec } from './image-encoder';
export { ClipTextEncoder, type TextEncoderSpec, type TextEncoding } from './text-encoder';
export { ImageFeatureCache } from './feature-cache';
export { featurizeImages, type BatchImageEncoder, type FeatureResult, type FeaturizeOptions } from './image-features';
export { contentHash } from './content-hash';
export { createEncoders, type Encoders } from './encoders';
