import * as ort from 'onnxruntime-web/webgpu';
import { ORT_ASSET_DIR } from './ort-paths';
import { wasmThreads } from './ort-threads';

let configured = false;
let asked: string | null = null;

/** The page's `?ep-threads=N`, before the first session (src/encoders/ort-threads.ts ignores junk). */
export function askOrtThreads(value: string | null): void {
  asked = value;
}

/** Points ORT at the runtime files we serve ourselves and picks a thread count; idempotent. */
export function configureOrt(adapter?: GPUAdapter): typeof ort {
  if (!configured) {
    ort.env.wasm.wasmPaths = new URL(import.meta.env.BASE_URL + ORT_ASSET_DIR, location.href).href;
    // Every core for the image tower (src/encoders/ort-threads.ts; ORT's own default is half of them, at most 4).
    ort.env.wasm.numThreads = wasmThreads(!!globalThis.crossOriginIsolated, navigator.hardwareConcurrency, asked);
    // ORT logs node-placement notes as warnings (shape ops on the CPU are expected); keep the console for real errors.
    ort.env.logLevel = 'error';
    configured = true;
  }
  // Without this ORT would request a second adapter of its own before using our device.
  if (adapter) (ort.env.webgpu as { adapter?: unknown }).adapter = adapter;
  return ort;
}

export { ort };
