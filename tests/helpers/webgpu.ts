/**
 * One Dawn (node `webgpu`) device per test file. When no adapter can be
 * created the GPU suites are skipped with a message naming the environment
 * that `npm test` sets up, instead of failing obscurely.
 */
import { create, globals } from 'webgpu';
import { requestEngineDevice } from '../../src/engine/gpu/device';

export const GPU_ENV_HINT =
  'WebGPU adapter unavailable: run via `npm test`, or set LD_LIBRARY_PATH=/usr/lib/chromium ' +
  'VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json (SwiftShader Vulkan ICD for Dawn).';

let devicePromise: Promise<GPUDevice | null> | undefined;

export function getTestDevice(): Promise<GPUDevice | null> {
  devicePromise ??= (async () => {
    try {
      Object.assign(globalThis, globals);
      const device = await requestEngineDevice(create([]));
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
  const out = await fn();
  const errors = [await device.popErrorScope(), await device.popErrorScope(), await device.popErrorScope()];
  const e = errors.find((x) => x);
  if (e) throw new Error(`WebGPU error: ${e.message}`);
  return out;
}
