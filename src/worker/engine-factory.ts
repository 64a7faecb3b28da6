/**
 * Picks the worker's text engine (choose-engine.ts): the WGSL engine on a GPUDevice of the worker's own or the
 * CPU twin, whichever a short probe shows faster (`?engine=cpu` / `?engine=webgpu` force one), labelled with both
 * rates and the reason so the UI can say which trains and why. The chosen engine must then reproduce ORT's
 * text_embeds (the load-time proof) before it is used.
 */
import { forcedPath } from '../engine/choose-path';
import { PROOF_MIN_COSINE, proveTextWeights } from '../engine/load-proof';
import { loadTextWeights } from '../engine/model/text-weights';
import { StoreSource } from '../models/sources/browser-store';
import { chooseTextEngine } from './choose-engine';
import type { EngineFactory } from './train-session';
import { webMatmulPool, type MatmulPool } from '../engine/ops/matmul/cpu-pool';
import { WasmKernels } from '../engine/wasm/kernels';

/**
 * Threads for a CPU engine in this worker: `?threads=N` if given, else the cores up to `cap`. Threads need
 * SharedArrayBuffer, so a cross-origin isolated page (the app's server sends COOP/COEP; public/coi-sw.js elsewhere);
 * without it, one.
 */
function workerThreads(asked: number | undefined, cap: number): number {
  const g = globalThis as { crossOriginIsolated?: boolean; navigator?: { hardwareConcurrency?: number } };
  if (!g.crossOriginIsolated || typeof SharedArrayBuffer === 'undefined') return 1;
  return Math.max(1, Math.floor(asked ?? Math.min(cap, g.navigator?.hardwareConcurrency ?? 1)));
}

/**
 * The JavaScript reference's matmul workers (`?engine=reference`, or no WebAssembly SIMD): one per core beside this
 * worker, at most 4 threads in all (measured on 2 cores only: 1.11–1.39× there; each product copies its operands into
 * shared memory, which more threads do not shorten).
 */
function cpuPool(asked: number | undefined): MatmulPool | null {
  const threads = workerThreads(asked, 4);
  if (threads < 2) return null;
  try {
    return webMatmulPool(threads - 1);
  } catch {
    return null;
  }
}

async function fetchModel(url: string): Promise<ArrayBuffer> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url} could not be downloaded (HTTP ${response.status})`);
  return response.arrayBuffer();
}

/** `public/models/<id>/onnx/text_model_fp16.onnx` from the file's URL, for messages that name it. */
function fileOf(url: string): string {
  const path = decodeURIComponent(new URL(url, 'http://x/').pathname);
  const at = path.lastIndexOf('/models/');
  return at >= 0 ? `public${path.slice(at)}` : path;
}

/** The text file's bytes: from the browser store for a stored model (no network), else from the app's server. */
async function textModelBytes(req: Parameters<EngineFactory>[0]): Promise<ArrayBuffer | Uint8Array> {
  if (req.textStored) return (await StoreSource.open(req.textStored.meta)).read(req.textStored.path);
  return fetchModel(req.textModelUrl);
}

export const createEngine: EngineFactory = async (req, onLost) => {
  const file = req.textStored ? req.textStored.path : fileOf(req.textModelUrl);
  // fp16 files are upcast here (the engine computes in fp32); the bytes go out of scope once parsed.
  const weights = loadTextWeights(await textModelBytes(req), req.config, file);
  const gpu = typeof navigator !== 'undefined' ? navigator.gpu : undefined;
  const asked = req.engine && req.engine !== 'auto' ? forcedPath(req.engine) : undefined;
  const path = asked ?? (req.preferGpu ? undefined : 'cpu');
  const forced = path ? { path, by: `?engine=${req.engine && req.engine !== 'auto' ? req.engine : 'cpu'}` } : undefined;
  const reference = req.engine?.toLowerCase() === 'reference';
  // The WASM engine: this worker and one Web Worker per further core, at most 8 threads.
  const cpuKernels = reference ? undefined : () => WasmKernels.create({ threads: workerThreads(req.threads, 8), web: true });
  const { engine } = await chooseTextEngine({ weights, logitScale: req.logitScale, gpu, forced, onLost, cpuKernels, cpuPool: () => cpuPool(req.threads) });
  if (req.proof?.length) {
    // The weights as read must reproduce ORT's own text_embeds, or the model is refused with the reason.
    try {
      await proveTextWeights((ids, rows) => engine.encodeTokens(ids, rows), req.proof, PROOF_MIN_COSINE, file);
    } catch (e) {
      engine.dispose();
      throw e;
    }
  }
  return engine;
};
