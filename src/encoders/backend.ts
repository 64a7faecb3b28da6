import { acquireGpuDevice, type GpuHandle } from '../gpu-device';

export type EpName = 'webgpu' | 'wasm';

/** Which execution provider the encoders run on, and why when it is not WebGPU. */
export type Backend = { ep: 'webgpu'; gpu: GpuHandle } | { ep: 'wasm'; reason: string };

/** `?ep=wasm` in the page URL forces the WASM EP, e.g. to compare against WebGPU. */
export function requestedEp(search: string): EpName | undefined {
  const ep = new URLSearchParams(search).get('ep');
  return ep === 'wasm' || ep === 'webgpu' ? ep : undefined;
}

/** WebGPU on our shared device when the browser offers one, otherwise the WASM EP. */
export async function chooseBackend(requested?: EpName): Promise<Backend> {
  if (requested === 'wasm') return { ep: 'wasm', reason: 'requested with ?ep=wasm' };
  const acquired = await acquireGpuDevice();
  if (acquired.ok) return { ep: 'webgpu', gpu: acquired.gpu };
  return { ep: 'wasm', reason: acquired.reason };
}
