/**
 * Runs the suite in Node on Dawn (the `webgpu` package): the same WGSL on Vulkan, Metal or
 * D3D12 without a browser, e.g. on a GPU server. Image encoding here is onnxruntime-node's
 * CPU EP, labelled as such: ORT's WebGPU and WASM EPs are browser builds.
 */
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { dawnGpu, releaseDawnGpu } from '../../src/engine/gpu/dawn-node';
import { requestEngineDevice } from '../../src/engine/gpu/device';
import { loadModelFromDir, type NodeModel } from '../../src/models/node';
import { batch1And32 } from './image';
import { runSuite } from './suite';
import type { Log } from './timing';
import type { AdapterInfo, BenchOptions, BenchResult, ImageEncodeResult } from './types';

/** Thrown when Dawn finds no adapter, so the CLI can retry on SwiftShader where Chromium ships it. */
export class NoAdapterError extends Error {}

export const SWIFTSHADER_ENV = {
  LD_LIBRARY_PATH: '/usr/lib/chromium',
  VK_ICD_FILENAMES: '/usr/lib/chromium/vk_swiftshader_icd.json',
};

export async function runInNode(root: string, opts: BenchOptions, dawn: string[], log: Log): Promise<BenchResult> {
  // dawn-node.ts holds Dawn's instance until releaseDawnGpu(), so Node can exit afterwards.
  const gpu = await dawnGpu(dawn);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    releaseDawnGpu();
    throw new NoAdapterError('Dawn found no WebGPU adapter (no Vulkan/Metal/D3D12 driver it can load)');
  }
  const device = await requestEngineDevice(gpu, { features: ['timestamp-query'] });
  device.addEventListener('uncapturederror', (e) => log(`WebGPU error: ${(e as GPUUncapturedErrorEvent).error.message}`));
  const info = adapter.info;
  const adapterInfo: AdapterInfo = {
    runner: 'node',
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    host: `Node ${process.version}, dawn.node (webgpu package)${dawn.length ? ` [${dawn.join(' ')}]` : ''}, ${cpus().length} CPU cores`,
    maxBufferSize: adapter.limits.maxBufferSize,
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    features: [...adapter.features].map(String).sort(),
  };
  // The same loader as the app: a folder as published (no manifest, fp16 text) is read the same way.
  let model: Promise<NodeModel> | undefined;
  const loadModel = () => (model ??= loadModelFromDir(resolve(root, opts.model), { vision: opts.visionDtype }));
  try {
    return await runSuite(
      {
        device,
        adapter: adapterInfo,
        log,
        loadToyWeights: async () => (await loadModel()).weights,
        imageEncode: async (l) => nodeImageEncode(await loadModel(), opts, l),
      },
      opts,
    );
  } finally {
    device.destroy();
    releaseDawnGpu();
  }
}

async function nodeImageEncode(model: NodeModel, opts: BenchOptions, log: Log): Promise<ImageEncodeResult> {
  const ort = await import('onnxruntime-node');
  const s = model.description.imageSize;
  const session = await ort.InferenceSession.create(model.visionPath, { executionProviders: ['cpu'], logSeverityLevel: 3 });
  const encode = async (pixels: Float32Array, count: number) => {
    const out = await session.run({ pixel_values: new ort.Tensor('float32', pixels, [count, 3, s, s]) });
    return out.image_embeds;
  };
  const { b1, b32 } = await batch1And32(encode, 3 * s * s, opts.reps);
  await session.release();
  log(`image encode (onnxruntime-node CPU EP): ${b1.toFixed(1)} img/s at batch 1, ${b32.toFixed(1)} at batch 32`);
  return {
    model: `${model.description.id} ${model.vision.path} (${model.vision.dtype}, ${s} px)`,
    webgpu_ips_b1: null,
    webgpu_ips_b32: null,
    wasm_ips_b1: null,
    wasm_ips_b32: null,
    node_cpu_ips_b1: b1,
    node_cpu_ips_b32: b32,
    note: '--node: ORT-web\'s WebGPU and WASM EPs need a browser; node_cpu_* is onnxruntime-node\'s CPU EP, not comparable to them',
  };
}
