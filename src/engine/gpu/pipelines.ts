/**
 * One compiled pipeline per (device, key). WGSL compilation is the slowest
 * thing WebGPU does, and kernels are dispatched thousands of times per run,
 * so each variant must be compiled exactly once per device.
 */
const caches = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

export function getPipeline(device: GPUDevice, key: string, makeCode: () => string, entryPoint = 'main'): GPUComputePipeline {
  let cache = caches.get(device);
  if (!cache) {
    cache = new Map();
    caches.set(device, cache);
  }
  let pipeline = cache.get(key);
  if (!pipeline) {
    const module = device.createShaderModule({ label: key, code: makeCode() });
    pipeline = device.createComputePipeline({ label: key, layout: 'auto', compute: { module, entryPoint } });
    cache.set(key, pipeline);
  }
  return pipeline;
}

/** Number of distinct pipelines compiled so far on `device` (for tests and diagnostics). */
export function pipelineCount(device: GPUDevice): number {
  return caches.get(device)?.size ?? 0;
}
