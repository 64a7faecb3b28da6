/**
 * The image-model fingerprint: what cached image features (command line) and coop-adapter files (app and command
 * line) are keyed by. It covers the vision tower's bytes and the preprocessing, since both decide the features.
 * Host-free (WebCrypto's SHA-256: the browser's crypto.subtle, Node's globalThis.crypto), so the app and the
 * command line compute it with this one recipe and a file from one is accepted by the other.
 */
import type { PreprocessConfig } from '../preprocess/config';

function hex(digest: ArrayBuffer): string {
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** sha256 of bytes, or of a string's UTF-8, as lower-case hex. */
export async function sha256Hex(data: Uint8Array | string): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw new Error('SHA-256 needs WebCrypto (crypto.subtle): open the app over https or from localhost');
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  return hex(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}

/** sha256(hex sha256(vision ONNX bytes) + JSON of the preprocessing config). */
export async function imageModelFingerprint(visionModel: Uint8Array, preprocess: PreprocessConfig): Promise<string> {
  return sha256Hex((await sha256Hex(visionModel)) + JSON.stringify(preprocess));
}
