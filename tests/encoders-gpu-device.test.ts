import { afterEach, describe, expect, it, vi } from 'vitest';

/** A fake navigator.gpu whose device can be "lost" on demand. */
function fakeGpu() {
  let lose: (info: { reason: string; message: string }) => void = () => {};
  const requests: GPUDeviceDescriptor[] = [];
  const adapter = {
    limits: { maxStorageBufferBindingSize: 1 << 30, maxBufferSize: 1 << 30, maxComputeWorkgroupStorageSize: 32768 },
    features: new Set(['shader-f16']),
    info: { vendor: 'google', architecture: 'swiftshader', description: '' },
    requestDevice: async (d: GPUDeviceDescriptor) => {
      requests.push(d);
      return { lost: new Promise((r) => (lose = r)) };
    },
  };
  vi.stubGlobal('navigator', { gpu: { requestAdapter: async () => adapter } });
  return { requests, lose: (reason: string, message = '') => lose({ reason, message }) };
}

// gpu-device.ts keeps one device per page, so each test gets a fresh copy of the module.
const load = async () => {
  vi.resetModules();
  return import('../src/gpu-device');
};

describe('shared GPU device', () => {
  afterEach(() => vi.unstubAllGlobals());

  it("asks for the adapter's maximum buffer limits and the optional features it has", async () => {
    const gpu = fakeGpu();
    const { acquireGpuDevice } = await load();
    const got = await acquireGpuDevice();
    expect(got.ok).toBe(true);
    expect(got.ok && got.gpu.description).toBe('google swiftshader');
    const limits = gpu.requests[0].requiredLimits!;
    expect(limits.maxStorageBufferBindingSize).toBe(1 << 30);
    expect(limits.maxBufferSize).toBe(1 << 30);
    expect(gpu.requests[0].requiredFeatures).toEqual(['shader-f16']);
    expect(await acquireGpuDevice()).toBe(got);
  });

  it('tells listeners when the device is lost, and asks for a new device afterwards', async () => {
    const gpu = fakeGpu();
    const { acquireGpuDevice, onGpuDeviceLost } = await load();
    const messages: string[] = [];
    onGpuDeviceLost((m) => messages.push(m));
    const first = await acquireGpuDevice();
    gpu.lose('unknown', 'GPU process crashed');
    await new Promise((r) => setTimeout(r, 0));
    expect(messages).toEqual([
      'The GPU device was lost: GPU process crashed. Your classes, images and learned data are kept; reload the model to continue on a new device.',
    ]);
    const second = await acquireGpuDevice();
    expect(second).not.toBe(first);
    expect(gpu.requests).toHaveLength(2);
  });

  it('stays quiet when our own code destroys the device', async () => {
    const gpu = fakeGpu();
    const { acquireGpuDevice, onGpuDeviceLost } = await load();
    const messages: string[] = [];
    onGpuDeviceLost((m) => messages.push(m));
    await acquireGpuDevice();
    gpu.lose('destroyed');
    await new Promise((r) => setTimeout(r, 0));
    expect(messages).toEqual([]);
  });

  it("passes a device lost in the encoders' worker on to the page's listeners with the worker's message", async () => {
    const { reportGpuDeviceLost, onGpuDeviceLost } = await load();
    const messages: string[] = [];
    const off = onGpuDeviceLost((m) => messages.push(m));
    reportGpuDeviceLost('The GPU device was lost: x. Your classes, images and learned data are kept; reload the model to continue on a new device.');
    off();
    reportGpuDeviceLost('again');
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/^The GPU device was lost: x\./);
  });

  it('says why when there is no WebGPU', async () => {
    vi.stubGlobal('navigator', {});
    const { acquireGpuDevice } = await load();
    expect(await acquireGpuDevice()).toEqual({ ok: false, reason: 'this browser has no WebGPU (navigator.gpu is undefined)' });
  });
});
