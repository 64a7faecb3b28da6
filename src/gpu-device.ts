/**
 * One GPUDevice per JavaScript context, requested once and shared by what runs there: in the app, the encoders'
 * worker's (onnxruntime-web's WebGPU EP); the training worker requests its own for the WGSL engine. A GPUDevice
 * cannot cross contexts, so the page itself holds none.
 */
export interface GpuHandle {
  adapter: GPUAdapter;
  device: GPUDevice;
  /** What the adapter says it is, for the header badge's tooltip. */
  description: string;
  /** A software fallback adapter (SwiftShader, WARP): WebGPU then runs on the CPU cores. */
  fallback: boolean;
}

/** GPUAdapterInfo.isFallbackAdapter, or the older GPUAdapter.isFallbackAdapter. */
export function isFallbackAdapter(adapter: GPUAdapter): boolean {
  const info = adapter.info as (GPUAdapterInfo & { isFallbackAdapter?: boolean }) | undefined;
  return !!(info?.isFallbackAdapter ?? (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter);
}

export type GpuAcquisition = { ok: true; gpu: GpuHandle } | { ok: false; reason: string };

type LostListener = (message: string) => void;
const lostListeners = new Set<LostListener>();
let acquisition: Promise<GpuAcquisition> | undefined;

/** Called with a readable message when the device is lost; returns an unsubscribe function. */
export function onGpuDeviceLost(listener: LostListener): () => void {
  lostListeners.add(listener);
  return () => lostListeners.delete(listener);
}

/**
 * Tells this context's listeners that a device was lost, with the message acquire() words. The encoders' worker
 * holds its own device: the page calls this with the message the worker posts, so its listeners hear the same text.
 */
export function reportGpuDeviceLost(message: string): void {
  for (const listener of lostListeners) listener(message);
}

// Limits ORT's WebGPU EP and our text engine size their dispatches and buffers by: the spec
// defaults are far below what real GPUs offer, and asking for the adapter's maximum costs nothing.
const MAX_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

// Optional features ORT uses when present (fp16 models, subgroup reductions).
const WANTED_FEATURES: GPUFeatureName[] = ['shader-f16', 'subgroups' as GPUFeatureName];

async function acquire(): Promise<GpuAcquisition> {
  if (typeof navigator === 'undefined' || !navigator.gpu) {
    return { ok: false, reason: 'this browser has no WebGPU (navigator.gpu is undefined)' };
  }
  let adapter: GPUAdapter | null;
  try {
    adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    return { ok: false, reason: `requestAdapter failed: ${(e as Error).message}` };
  }
  if (!adapter) return { ok: false, reason: 'WebGPU is present but no GPU adapter is available' };
  const requiredLimits: Record<string, number> = {};
  for (const name of MAX_LIMITS) {
    // A browser that lacks a limit would reject undefined in requiredLimits.
    const value = adapter.limits[name];
    if (typeof value === 'number') requiredLimits[name] = value;
  }
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({
      label: 'coop-playground',
      requiredLimits,
      requiredFeatures: WANTED_FEATURES.filter((f) => adapter.features.has(f)),
    });
  } catch (e) {
    return { ok: false, reason: `requestDevice failed: ${(e as Error).message}` };
  }
  void device.lost.then((info) => {
    // destroy() from our own code is deliberate, not a failure to report.
    if (info.reason === 'destroyed') return;
    // The next acquireGpuDevice() asks for a fresh device, so reloading the model recovers.
    acquisition = undefined;
    const message =
      `The GPU device was lost${info.message ? `: ${info.message}` : ''}. ` +
      'Your classes, images and learned data are kept; reload the model to continue on a new device.';
    reportGpuDeviceLost(message);
  });
  const info = adapter.info;
  const description = [info?.vendor, info?.architecture, info?.description].filter(Boolean).join(' ') || 'WebGPU';
  return { ok: true, gpu: { adapter, device, description, fallback: isFallbackAdapter(adapter) } };
}

/** The shared device, requested on first call; later calls get the same one (or the same failure). */
export function acquireGpuDevice(): Promise<GpuAcquisition> {
  acquisition ??= acquire();
  return acquisition;
}
