/**
 * Device acquisition that works the same in a page, a Web Worker and Node:
 * the caller passes its `GPU` object (navigator.gpu, or webgpu's `create([])`),
 * so nothing here touches DOM or Node globals.
 */
export interface EngineDeviceOptions {
  powerPreference?: GPUPowerPreference;
  label?: string;
  /** Optional features to enable where the adapter has them (e.g. 'timestamp-query' for the bench's profile). */
  features?: GPUFeatureName[];
}

/**
 * Requests a device with the adapter's maximum storage-binding and buffer
 * sizes: the spec defaults (128 MiB / 256 MiB) are smaller than what a batch of
 * prompts through a 12-layer text transformer can need, and asking for the
 * adapter's maximum costs nothing.
 */
export async function requestEngineDevice(gpu: GPU, options: EngineDeviceOptions = {}): Promise<GPUDevice> {
  const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
  if (!adapter) throw new Error('WebGPU: no adapter available');
  const l = adapter.limits;
  return adapter.requestDevice({
    label: options.label ?? 'coop-engine',
    requiredFeatures: (options.features ?? []).filter((f) => adapter.features.has(f)),
    requiredLimits: {
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    },
  });
}
