/**
 * Picks the worker's text engine: the WGSL engine on a GPUDevice of the worker's own when WebGPU is present and
 * wanted, else the CPU twin, labelled as such so the UI can say which one trains.
 */
import { loadTextWeights } from '../engine/model/text-weights';
import { CpuTextEngine } from './cpu-text-engine';
import type { EngineFactory } from './train-session';

async function fetchModel(url: string): Promise<ArrayBuffer> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url} could not be downloaded (HTTP ${response.status})`);
  return response.arrayBuffer();
}

export const createEngine: EngineFactory = async (req) => {
  const weights = loadTextWeights(await fetchModel(req.textModelUrl), req.config);
  const cpu = new CpuTextEngine({ weights, logitScale: req.logitScale });
  const hasGpu = typeof navigator !== 'undefined' && 'gpu' in navigator && !!navigator.gpu;
  const why = !req.preferGpu
    ? 'CPU (JavaScript), as asked'
    : !hasGpu
      ? 'CPU (JavaScript): this browser offers no WebGPU in workers'
      : "CPU (JavaScript): the WGSL text engine's training step is not in this build yet";
  return Object.assign(cpu, { detail: why });
};
