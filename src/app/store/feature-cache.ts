import { ImageFeatureCache } from '../../encoders/feature-cache';

/** One cache for the page: features survive switching tabs, re-dropping files and a device loss. */
export const imageFeatureCache = new ImageFeatureCache();
