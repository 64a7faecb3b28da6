/**
 * `npx tsx bench/step-counts.ts [--src DIR] [--k 10,100,1000] [--structures toy,vit-b32]`: what one CoOp training step asks of WebGPU, counted at the API:
 * compute dispatches, copies/clears, queue submissions, bind groups and pipelines created, and bytes mapped back
 * to the CPU, for the fast step (unified, class at the end, M = 16, batch 32) of the toy and ViT-B/32 structures
 * at K = 10, 100 and 1000 (first and second step: pipelines and bind groups should be made only once).
 *
 * Counts depend on the structure (layers, heads, chunks), not on the widths, so the step runs on a narrow model
 * of the same structure (width 32, vocab 663) with the chunk the real width would get: it runs in seconds even on
 * SwiftShader. `--src DIR` counts another checkout's engine (e.g. an export of main) with the same probe.
 * The counting wraps the GPUDevice (a Proxy), so it needs nothing from the engine.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { dawnGpu } from '../src/engine/gpu/dawn-node';
import { requestEngineDevice } from '../src/engine/gpu/device';
import type { TextConfig } from '../src/engine/model/text-weights';
import { chunkForBudget, DEFAULT_ACTIVATION_BUDGET } from '../src/engine/plan';
import { randomTextWeights, syntheticTokenIds } from './lib/shapes';

const srcArg = process.argv.indexOf('--src');
const src = srcArg > 0 ? resolve(process.argv[srcArg + 1]) : null;
const opt = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const KS = opt('k', '10,100,1000').split(',').map(Number);
const ONLY = opt('structures', 'toy,vit-b32').split(',');
// This checkout's engine is imported statically, so a bundle of this file (bench/gpu-pack.sh) carries it.
const { createTextEngine } = src
  ? ((await import(pathToFileURL(`${src}/engine/text-engine.ts`).href)) as typeof import('../src/engine/text-engine'))
  : await import('../src/engine/text-engine');

interface Counts {
  dispatches: number;
  copies: number;
  submits: number;
  bindGroups: number;
  pipelines: number;
  readbackBytes: number;
}
const zero = (): Counts => ({ dispatches: 0, copies: 0, submits: 0, bindGroups: 0, pipelines: 0, readbackBytes: 0 });
let c = zero();

function counted(device: GPUDevice): GPUDevice {
  const wrapPass = (p: GPUComputePassEncoder) =>
    new Proxy(p, {
      get(t, k) {
        const v = Reflect.get(t, k, t);
        if (k === 'dispatchWorkgroups') return (...a: [number, number?, number?]) => (c.dispatches++, t.dispatchWorkgroups(...a));
        return typeof v === 'function' ? v.bind(t) : v;
      },
    });
  const wrapEncoder = (e: GPUCommandEncoder) =>
    new Proxy(e, {
      get(t, k) {
        const v = Reflect.get(t, k, t);
        if (k === 'beginComputePass') return (d?: GPUComputePassDescriptor) => wrapPass(t.beginComputePass(d));
        if (k === 'copyBufferToBuffer' || k === 'clearBuffer') return (...a: unknown[]) => (c.copies++, (v as (...x: unknown[]) => void).apply(t, a));
        return typeof v === 'function' ? v.bind(t) : v;
      },
    });
  const queue = new Proxy(device.queue, {
    get(t, k) {
      const v = Reflect.get(t, k, t);
      if (k === 'submit') return (b: GPUCommandBuffer[]) => (c.submits++, t.submit(b));
      return typeof v === 'function' ? v.bind(t) : v;
    },
  });
  return new Proxy(device, {
    get(t, k) {
      const v = Reflect.get(t, k, t);
      if (k === 'queue') return queue;
      if (k === 'createCommandEncoder') return (d?: GPUCommandEncoderDescriptor) => wrapEncoder(t.createCommandEncoder(d));
      if (k === 'createBindGroup') return (d: GPUBindGroupDescriptor) => (c.bindGroups++, t.createBindGroup(d));
      if (k === 'createComputePipeline') return (d: GPUComputePipelineDescriptor) => (c.pipelines++, t.createComputePipeline(d));
      if (k === 'createBuffer')
        return (d: GPUBufferDescriptor) => {
          const b = t.createBuffer(d);
          if (d.usage & GPUBufferUsage.MAP_READ) {
            const map = b.mapAsync.bind(b);
            // Bytes the CPU reads: the mapped range.
            Object.defineProperty(b, 'mapAsync', { value: (mode: number, off = 0, size?: number) => ((c.readbackBytes += size ?? b.size - off), map(mode, off, size)) });
          }
          return b;
        };
      return typeof v === 'function' ? v.bind(t) : v;
    },
  });
}

const STRUCTURES: { name: string; real: TextConfig; narrow: TextConfig }[] = [
  { name: 'toy', real: { D: 128, L: 4, H: 4, V: 663, E: 128, F: 512, P: 77, eps: 1e-5 }, narrow: { D: 32, L: 4, H: 4, V: 663, E: 32, F: 128, P: 77, eps: 1e-5 } },
  { name: 'vit-b32', real: { D: 512, L: 12, H: 8, V: 49408, E: 512, F: 2048, P: 77, eps: 1e-5 }, narrow: { D: 32, L: 12, H: 8, V: 663, E: 32, F: 128, P: 77, eps: 1e-5 } },
];

const gpu = await dawnGpu();
const device = await requestEngineDevice(gpu);
const dev = counted(device);
const M = 16;
const N = 32;
const rows: unknown[] = [];
for (const s of STRUCTURES.filter((x) => ONLY.includes(x.name))) {
  const weights = randomTextWeights(s.narrow);
  for (const K of KS) {
    const { tokenIds, nameLens } = syntheticTokenIds(s.narrow.V, K, M);
    // The real width's chunk: T = 1 + M + name (≤ 3) + '.' + EOS, prefix 1 + M.
    const T = Math.max(...tokenIds.map((ids) => ids.indexOf(s.narrow.V - 1))) + 1;
    const chunk = chunkForBudget({ ...s.real }, T, 1 + M, DEFAULT_ACTIVATION_BUDGET);
    const engine = createTextEngine(dev, weights, { chunk });
    const img = new Float32Array(N * s.narrow.E).map((_, i) => ((i * 7919) % 13) / 13 - 0.5);
    const input = { ctx: new Float32Array(M * s.narrow.D).fill(0.01), tokenIds, nameLens, csc: false, position: 'end' as const, imageFeatures: img, labels: Array.from({ length: N }, (_, i) => i % K), logitScale: 100 };
    const steps: Counts[] = [];
    for (let i = 0; i < 2; i++) {
      c = zero();
      await engine.step(input);
      steps.push(c);
    }
    engine.destroy();
    // Bytes read back scale with the width only through the context gradient (M·D floats): the real width's.
    const realReadback = steps[1].readbackBytes + 4 * M * (s.real.D - s.narrow.D);
    const row = { structure: s.name, K, chunk, first: steps[0], second: steps[1], readback_bytes_real_width: realReadback };
    rows.push(row);
    const f = steps[1];
    console.log(
      `${s.name.padEnd(8)} K=${String(K).padEnd(5)} chunk ${String(chunk).padEnd(4)} | ${f.dispatches} dispatches, ${f.copies} copies/clears, ${f.submits} submit(s), ${realReadback} B read back (real width; ${f.readbackBytes} here) | bind groups created ${steps[0].bindGroups} first step, ${f.bindGroups} second; pipelines ${steps[0].pipelines} / ${f.pipelines}`,
    );
  }
}
console.log(JSON.stringify(rows));
device.destroy();
process.exit(0);
