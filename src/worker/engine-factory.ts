/**
 * Picks the worker's text engine: the WGSL engine on a GPUDevice of the worker's own when WebGPU is present and
 * wanted (and passes its self-check), else the CPU twin, labelled with the reason so the UI can say which trains.
 */
import { encodeTokensCpu } from '../engine/cpu-text-encoder';
import { proveTextWeights } from '../engine/load-proof';
import { loadTextWeights } from '../engine/model/text-weights';
import { StoreSource } from '../models/sources/browser-store';
import { CpuTextEngine } from './cpu-text-engine';
import { GpuTextEngine } from './gpu-text-engine';
import type { EngineFactory } from './train-session';

async function fetchModel(url: string): Promise<ArrayBuffer> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url} could not be downloaded (HTTP ${response.status})`);
  return response.arrayBuffer();
}

/** The text file's bytes: from the browser store for a stored model (no network), else from the app's server. */
async function textModelBytes(req: Parameters<EngineFactory>[0]): Promise<ArrayBuffer | Uint8Array> {
  if (req.textStored) return (await StoreSource.open(req.textStored.meta)).read(req.textStored.path);
  return fetchModel(req.textModelUrl);
}

export const createEngine: EngineFactory = async (req, onLost) => {
  // The bytes go out of scope once parsed: only the weights' own arrays stay.
  const weights = loadTextWeights(await textModelBytes(req), req.config);
  const gpu = typeof navigator !== 'undefined' ? navigator.gpu : undefined;
  let why: string;
  if (!req.preferGpu) why = 'CPU fallback (JavaScript), as asked with ?engine=cpu';
  else if (!gpu) why = 'CPU fallback (JavaScript): this browser offers no WebGPU to workers';
  else {
    const made = await GpuTextEngine.create(gpu, weights, req.logitScale, onLost);
    if ('engine' in made) {
      if (req.proof?.length) {
        try {
          await proveTextWeights((ids, rows) => made.engine.encodeTokens(ids, rows), req.proof);
        } catch (e) {
          made.engine.dispose();
          throw e;
        }
      }
      return made.engine;
    }
    why = `CPU fallback (JavaScript): ${made.reason}`;
  }
  // The weights as read must reproduce ORT's own text_embeds, or the model is refused with the reason.
  if (req.proof?.length) await proveTextWeights((ids, rows) => encodeTokensCpu(weights, ids, rows), req.proof);
  const cpu = new CpuTextEngine({ weights, logitScale: req.logitScale });
  cpu.detail = why;
  return cpu;
};
