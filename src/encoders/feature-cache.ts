/**
 * Image features by model and content hash. The image tower is frozen, so a feature never goes stale
 * while its model is loaded; keys include the model so switching models cannot mix feature spaces.
 */
export class ImageFeatureCache {
  private readonly features = new Map<string, Float32Array>();

  private key(modelKey: string, hash: string): string {
    return `${modelKey}\u0000${hash}`;
  }

  get(modelKey: string, hash: string): Float32Array | undefined {
    return this.features.get(this.key(modelKey, hash));
  }

  set(modelKey: string, hash: string, feature: Float32Array): void {
    this.features.set(this.key(modelKey, hash), feature);
  }

  get size(): number {
    return this.features.size;
  }

  clear(): void {
    this.features.clear();
  }
}
