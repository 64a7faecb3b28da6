/**
 * One WebGPU device per test file, from whichever implementation the file runs under:
 * Chromium's navigator.gpu in the vitest `browser` project (always), or Dawn through the npm
 * `webgpu` package in Node (src/engine/gpu/dawn-node.ts) unless COOP_DAWN=0.
 * Without a device the GPU suites are skipped with a message saying how to get one.
 */
import { dawnGpu } from '../../src/engine/gpu/dawn-node';
import { requestEngineDevice } from '../../src/engine/gpu/device';

export const GPU_ENV_HINT =
  'No WebGPU device in Node: Dawn needs a Vulkan driver (npm test points it at Chromium\'s SwiftShader: ' +
  'LD_LIBRARY_PATH=/usr/lib/chromium VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json; apt-get install -y chromium), ' +
  'or COOP_DAWN=0 turned it off. The same WGSL suites also run in the vitest `browser` project (Chromium).';

let devicePromise: Promise<GPUDevice | null> | undefined;

async function nodeDawnGpu(): Promise<GPU | null> {
  if (typeof process === 'undefined' || process.env.COOP_DAWN === '0') return null;
  return dawnGpu();
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
