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

/**
 * Why this machine should have a device, or null when a skip is honest. A GPU suite that skips where an adapter
 * exists hides a broken device request, so there a missing device fails the file instead: in a browser that has
 * navigator.gpu, in Node when VK_ICD_FILENAMES names an ICD file that exists (npm test sets it to SwiftShader's),
 * or whenever COOP_REQUIRE_GPU=1.
 */
export async function deviceExpected(): Promise<string | null> {
  const nav = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (nav) return 'navigator.gpu exists';
  if (typeof process === 'undefined') return null;
  if (process.env.COOP_REQUIRE_GPU === '1') return 'COOP_REQUIRE_GPU=1';
  if (process.env.COOP_DAWN === '0') return null;
  const icd = process.env.VK_ICD_FILENAMES;
  if (!icd) return null;
  const { existsSync } = await import('node:fs');
  const found = icd.split(':').find((f) => f && existsSync(f));
  return found ? `VK_ICD_FILENAMES names ${found}, which exists` : null;
}

async function requestDevice(): Promise<GPUDevice | null> {
  try {
    const gpu = (globalThis.navigator as Navigator | undefined)?.gpu ?? (await nodeDawnGpu());
    if (!gpu) return null;
    const device = await requestEngineDevice(gpu);
    device.addEventListener('uncapturederror', (e) => {
      console.error('WebGPU uncaptured error:', (e as GPUUncapturedErrorEvent).error.message);
    });
    return device;
  } catch (err) {
    const expected = await deviceExpected();
    if (expected) throw new Error(`No WebGPU device although one should exist here (${expected}): ${(err as Error).message}. The GPU suites would skip silently; fix the device request instead.`);
    console.warn(`${GPU_ENV_HINT} (${(err as Error).message})`);
    return null;
  }
}

/** The file's device; null (the GPU suites skip) only where no adapter is expected, else it throws. */
export function getTestDevice(): Promise<GPUDevice | null> {
  devicePromise ??= requestDevice();
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
