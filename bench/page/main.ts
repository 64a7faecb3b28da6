/**
 * The bench page: the suite on the app's own shared GPUDevice (the one ORT's WebGPU EP
 * also gets), so timings include whatever sharing costs in the app. `npm run bench`
 * calls window.__runBench(options) and reads the returned JSON.
 */
import { acquireGpuDevice } from '../../src/gpu-device';
import { ClipImageEncoder } from '../../src/encoders/image-encoder';
import type { Backend } from '../../src/encoders/backend';
import { loadTextWeights } from '../../src/engine/model/text-weights';
import { batch1And32 } from '../lib/image';
import { runSuite } from '../lib/suite';
import type { Log } from '../lib/timing';
import type { AdapterInfo, BenchOptions, BenchResult, ImageEncodeResult } from '../lib/types';

const TOY = '/models/toy-clip';

declare global {
  interface Window {
    __runBench: (opts: BenchOptions) => Promise<BenchResult>;
    __benchReady: boolean;
  }
}

const logEl = document.getElementById('log')!;
const log: Log = (line) => {
  console.log(`[bench] ${line}`);
  logEl.textContent += `\n${line}`;
};

async function bytes(path: string): Promise<Uint8Array> {
  const res = await fetch(path);
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

async function imageEncode(gpuBackend: Backend, opts: BenchOptions, l: Log): Promise<ImageEncodeResult> {
  const manifest = JSON.parse(new TextDecoder().decode(await bytes(`${TOY}/manifest.json`))) as { image_size: number; embed_dim: number };
  const model = await bytes(`${TOY}/onnx/vision_model.onnx`);
  const spec = { bytes: model, file: `${TOY}/onnx/vision_model.onnx`, imageSize: manifest.image_size, embedDim: manifest.embed_dim };
  const result: ImageEncodeResult = { webgpu_ips_b1: null, webgpu_ips_b32: null, wasm_ips_b1: null, wasm_ips_b32: null };
  const notes: string[] = [];
  const backends: Array<[Backend, 'webgpu' | 'wasm']> = [
    [gpuBackend, 'webgpu'],
    [{ ep: 'wasm', reason: 'benchmark' }, 'wasm'],
  ];
  for (const [backend, name] of backends) {
    try {
      const enc = await ClipImageEncoder.create(spec, backend);
      const encode = (p: Float32Array, n: number) => enc.encode(p, n);
      const { b1, b32, note } = await batch1And32(encode, enc.pixelsPerImage, opts.reps);
      if (note) notes.push(`${name}: ${note}`);
      await enc.release();
      result[`${name}_ips_b1`] = b1;
      result[`${name}_ips_b32`] = b32;
      l(`image encode (ORT-web ${name} EP): ${b1.toFixed(1)} img/s at batch 1, ${b32.toFixed(1)} at batch 32`);
    } catch (e) {
      notes.push(`${name}: ${(e as Error).message}`);
    }
  }
  if (notes.length) result.note = notes.join('; ');
  return result;
}

window.__runBench = async (opts) => {
  const acquired = await acquireGpuDevice();
  if (!acquired.ok) throw new Error(`no WebGPU: ${acquired.reason}`);
  const { adapter, device } = acquired.gpu;
  device.addEventListener('uncapturederror', (e) => log(`WebGPU error: ${(e as GPUUncapturedErrorEvent).error.message}`));
  const info = adapter.info;
  const adapterInfo: AdapterInfo = {
    runner: 'browser',
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    host: `${navigator.userAgent}, ${navigator.hardwareConcurrency} logical cores`,
    maxBufferSize: adapter.limits.maxBufferSize,
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    features: [...adapter.features].map(String).sort(),
  };
  return runSuite(
    {
      device,
      adapter: adapterInfo,
      log,
      loadToyWeights: async () => {
        const [model, config] = await Promise.all([bytes(`${TOY}/onnx/text_model.onnx`), bytes(`${TOY}/config.json`)]);
        return loadTextWeights(model, JSON.parse(new TextDecoder().decode(config)));
      },
      imageEncode: (l) => imageEncode({ ep: 'webgpu', gpu: acquired.gpu }, opts, l),
    },
    opts,
  );
};
window.__benchReady = true;
