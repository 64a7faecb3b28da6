import type { ModelFolder } from '../../models/load';
import { imageModelFingerprint } from '../../models/fingerprint';

/**
 * The loaded model's image fingerprint (src/models/fingerprint.ts, the command line's recipe), read from the vision
 * bytes before they are transferred to the encoders' worker. Null without WebCrypto (a page not served over https
 * or from localhost): then adapter files cannot be exported or imported, and the page says why.
 */
export async function imageFingerprintOf(model: Pick<ModelFolder, 'visionModel' | 'description'>): Promise<string | null> {
  if (!globalThis.crypto?.subtle) return null;
  return imageModelFingerprint(model.visionModel, model.description.preprocess);
}
