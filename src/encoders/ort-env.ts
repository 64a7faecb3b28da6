import * as ort from 'onnxruntime-web/webgpu';
import { ORT_ASSET_DIR } from './ort-paths';

let configured = false;

/** Points ORT at the runtime files we serve ourselves and picks a thread count; idempotent. */
export function configureOrt(adapter?: GPUAdapter): typeof ort {
  if (!configured) {
    ort.env.wasm.wasmPaths = new URL(import.meta.env.BASE_URL + ORT_ASSET_DIR, location.href).href;
    // Threads need SharedArrayBuffer, which only a cross-origin isolated page (COOP/COEP) has.
    ort.env.wasm.numThreads = globalThis.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
    // ORT logs node-placement notes as warnings (shape ops on the CPU are expected); keep the console for real errors.
    ort.env.logLevel = 'error';
    configured = true;
  }
  // Without this ORT would request a second adapter of its own before using our device.
  if (adapter) (ort.env.webgpu as { adapter?: unknown }).adapter = adapter;
  return ort;
}

export { ort };
