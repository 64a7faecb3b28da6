import { acquireGpuDevice, type GpuHandle } from '../gpu-device';

export type EpName = 'webgpu' | 'wasm';

/** Which execution provider the encoders run on, and why when it is not WebGPU (inside the encoders' worker). */
export type Backend = { ep: 'webgpu'; gpu: GpuHandle } | { ep: 'wasm'; reason: string };

/**
 * What the page knows of the worker's backend: the same shape less the adapter and device, which cannot leave the
 * worker that requested them (a GPUDevice is not transferable).
 */
export type BackendInfo = { ep: 'webgpu'; gpu: Pick<GpuHandle, 'description' | 'fallback'> } | { ep: 'wasm'; reason: string };

/** The cloneable part of a backend, for the message that tells the page which EP the worker chose. */
export function backendInfo(backend: Backend): BackendInfo {
  return backend.ep === 'webgpu' ? { ep: 'webgpu', gpu: { description: backend.gpu.description, fallback: backend.gpu.fallback } } : backend;
}

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
