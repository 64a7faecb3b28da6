/**
 * Picks the worker's text engine: the WGSL engine on a GPUDevice of the worker's own when WebGPU is present and
 * wanted (and passes its self-check), else the CPU twin, labelled with the reason so the UI can say which trains.
 */
import { encodeTokensCpu } from '../engine/cpu-text-encoder';
import { PROOF_MIN_COSINE, proveTextWeights } from '../engine/load-proof';
import { loadTextWeights } from '../engine/model/text-weights';
import { CpuTextEngine } from './cpu-text-engine';
import { GpuTextEngine } from './gpu-text-engine';
import type { EngineFactory } from './train-session';

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

export const createEngine: EngineFactory = async (req, onLost) => {
  const file = fileOf(req.textModelUrl);
  // fp16 files are upcast here; the engine computes in fp32.
  const weights = loadTextWeights(await fetchModel(req.textModelUrl), req.config, file);
  const gpu = typeof navigator !== 'undefined' ? navigator.gpu : undefined;
  let why: string;
  if (!req.preferGpu) why = 'CPU fallback (JavaScript), as asked with ?engine=cpu';
  else if (!gpu) why = 'CPU fallback (JavaScript): this browser offers no WebGPU to workers';
  else {
    const made = await GpuTextEngine.create(gpu, weights, req.logitScale, onLost);
    if ('engine' in made) {
      if (req.proof?.length) {
        try {
          await proveTextWeights((ids, rows) => made.engine.encodeTokens(ids, rows), req.proof, PROOF_MIN_COSINE, file);
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
  if (req.proof?.length) await proveTextWeights((ids, rows) => encodeTokensCpu(weights, ids, rows), req.proof, PROOF_MIN_COSINE, file);
  const cpu = new CpuTextEngine({ weights, logitScale: req.logitScale });
  cpu.detail = why;
  return cpu;
};
