/**
 * One WebGPU device per test file, from whichever implementation the file runs under:
 * Chromium's navigator.gpu in the vitest `browser` project (always), or Dawn through the npm
 * `webgpu` package in Node, only when COOP_DAWN=1 — Node Dawn crashes at random on SwiftShader
 * here (see src/engine/ops/REQUESTS.md), while Chromium's WebGPU on the same ICD is stable.
 * Without a device the GPU suites are skipped with a message saying how to get one.
 */
import { requestEngineDevice } from '../../src/engine/gpu/device';

export const GPU_ENV_HINT =
  'No WebGPU here: the WGSL suites run in the vitest `browser` project (Chromium on SwiftShader); ' +
  'to also run them in Node through Dawn set COOP_DAWN=1 (npm test sets the SwiftShader ICD: ' +
  'LD_LIBRARY_PATH=/usr/lib/chromium VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json).';

export const IN_BROWSER = typeof window !== 'undefined' && typeof document !== 'undefined';

let devicePromise: Promise<GPUDevice | null> | undefined;

async function nodeDawnGpu(): Promise<GPU | null> {
  if (typeof process === 'undefined' || process.env.COOP_DAWN !== '1') return null;
  // A variable specifier keeps the browser bundler away from this native Node addon.
  const spec = 'webgpu';
  const { create, globals } = await import(/* @vite-ignore */ spec);
  Object.assign(globalThis, globals);
  return create([]) as GPU;
}

export function getTestDevice(): Promise<GPUDevice | null> {
  devicePromise ??= (async () => {
    try {
      const gpu = (globalThis.navigator as Navigator | undefined)?.gpu ?? (await nodeDawnGpu());
      if (!gpu) return null;
      const device = await requestEngineDevice(gpu);
      device.addEventListener('uncapturederror', (e) => {
        console.error('WebGPU uncaptured error:', (e as GPUUncapturedErrorEvent).error.message);
      });
      return device;
    } catch (err) {
      console.warn(`${GPU_ENV_HINT} (${(err as Error).message})`);
      return null;
    }
  })();
  return devicePromise;
}

/** Runs `fn` inside a validation error scope and throws the first error, so kernel bugs fail the test. */
export async function withValidation<T>(device: GPUDevice, fn: () => Promise<T> | T): Promise<T> {
  device.pushErrorScope('validation');
  device.pushErrorScope('internal');
  device.pushErrorScope('out-of-memory');
  let out: T;
  try {
    out = await fn();
  } finally {
    // Popped even when fn throws, so a failing test does not leave scopes open for the next one.
    const errors = [await device.popErrorScope(), await device.popErrorScope(), await device.popErrorScope()];
    const e = errors.find((x) => x);
    if (e) throw new Error(`WebGPU error: ${e.message}`);
  }
  return out;
}
