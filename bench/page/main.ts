/**
 * The bench page: the suite on the app's own shared GPUDevice (the one ORT's WebGPU EP
 * also gets), so timings include whatever sharing costs in the app. `npm run bench`
 * calls window.__runBench(options) and reads the returned JSON.
 */
import { acquireGpuDevice } from '../../src/gpu-device';
import { ClipImageEncoder } from '../../src/encoders/image-encoder';
import type { Backend } from '../../src/encoders/backend';
import { describeModel, readTower, textWeightsOf, type ModelDescription } from '../../src/models/load';
import type { ModelSource } from '../../src/models/source';
import { httpFolderSource } from '../../src/models/sources/bundled';
import { batch1And32 } from '../lib/image';
import { runSuite } from '../lib/suite';
import type { Log } from '../lib/timing';
import type { AdapterInfo, BenchOptions, BenchResult, ImageEncodeResult } from '../lib/types';

/** The folder the host serves (`--model`), read by the app's own loader. */
function modelSource(opts: BenchOptions): ModelSource {
  const rootUrl = opts.modelUrl ?? '/models/toy-clip/';
  return httpFolderSource({ rootUrl, name: opts.model.split('/').filter(Boolean).pop() ?? opts.model, kind: 'disk', describe: (p) => `${opts.model}/${p}` });
}

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

async function imageEncode(source: ModelSource, desc: ModelDescription, gpuBackend: Backend, opts: BenchOptions, l: Log): Promise<ImageEncodeResult> {
  const vision = await readTower(source, desc, 'vision', opts.visionDtype);
  const spec = { bytes: vision.bytes, file: vision.file, imageSize: desc.imageSize, embedDim: desc.embedDim };
  const result: ImageEncodeResult = {
    model: `${desc.id} ${vision.path} (${vision.dtype}, ${desc.imageSize} px)`,
    webgpu_ips_b1: null,
    webgpu_ips_b32: null,
    wasm_ips_b1: null,
    wasm_ips_b32: null,
  };
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
  const source = modelSource(opts);
  let desc: Promise<ModelDescription> | undefined;
  const describe = () => (desc ??= describeModel(source));
  return runSuite(
    {
      device,
      adapter: adapterInfo,
      log,
      loadToyWeights: async () => {
        const d = await describe();
        return textWeightsOf(await readTower(source, d, 'text'), d);
      },
      imageEncode: async (l) => imageEncode(source, await describe(), { ep: 'webgpu', gpu: acquired.gpu }, opts, l),
    },
    opts,
  );
};
window.__benchReady = true;
