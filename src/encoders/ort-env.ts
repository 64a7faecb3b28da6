import * as ort from 'onnxruntime-web/webgpu';
import { ORT_ASSET_DIR } from './ort-paths';

let configured = false;

/** Points ORT at the runtime files we serve ourselves and picks a thread count; idempotent. */
export function configureOrt(adapter?: GPUAdapter): typeof ort {
  if (!configured) {
    ort.env.wasm.wasmPaths = new URL(import.meta.env.BASE_URL + ORT_ASSET_DIR, location.href).href;
    // Every core for the image tower (ORT's own default is half of them, at most 4). Threads need SharedArrayBuffer,
    // which only a cross-origin isolated page has (the server's COOP/COEP headers, or public/coi-sw.js on a static host).
    ort.env.wasm.numThreads = ortThreads();
    // ORT logs node-placement notes as warnings (shape ops on the CPU are expected); keep the console for real errors.
    ort.env.logLevel = 'error';
    configured = true;
  }
  // Without this ORT would request a second adapter of its own before using our device.
  if (adapter) (ort.env.webgpu as { adapter?: unknown }).adapter = adapter;
  return ort;
}

/** onnxruntime-web's WASM threads: every core (at most 16) where the page is cross-origin isolated, else 1. */
export function ortThreads(): number {
  return globalThis.crossOriginIsolated ? Math.max(1, Math.min(16, navigator.hardwareConcurrency || 1)) : 1;
}

export { ort };
