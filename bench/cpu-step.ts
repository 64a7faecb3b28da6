/**
 * `npx tsx bench/cpu-step.ts [--shape toy|small|vit-b32] [--k 10,100] [--engines reference,wasm] [--threads 1,2]
 * [--reps N] [--out FILE]`: the CPU engines' CoOp step (src/engine/cpu-text-encoder.ts's coopStepCpu, the engine of a
 * browser without a usable WebGPU and of the command line's `--engine cpu`) side by side in one run, each engine on
 * each thread count in turn per K:
 * - `reference`: the JavaScript twins (f64 accumulation; T − 1 worker_threads for the matmuls, cpu-pool.ts);
 * - `wasm`: the WASM SIMD kernels (src/engine/wasm/; fp32, T − 1 worker_threads over one shared memory; relaxed
 *   SIMD's FMA where this Node has it).
 * Fast path, unified context at the end, M = 16, batch 32, as the WGSL rows of `npm run bench`. GFLOP per step is
 * the planner's (pathFlops), so rates compare with the GPU's. Every row carries its largest relative difference
 * (loss, gradient) from the reference engine's first run.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { coopStepCpu } from '../src/engine/cpu-text-encoder';
import { loadTextWeights, type TextWeights } from '../src/engine/model/text-weights';
import { pathFlops } from '../src/engine/plan';
import { promptLayout, sharedPrefixLength, usedLength } from '../src/engine/prompt';
import { modelShape, randomShapeConfig, randomTextWeights } from './lib/shapes';
import { stepInput } from './lib/text-step';
import { installMatmulPool, nodeMatmulPool, type MatmulPool } from '../src/engine/ops/matmul/cpu-pool';
import { referenceKernels, type CpuKernels } from '../src/engine/ops/kernels';
import { WasmKernels } from '../src/engine/wasm/kernels';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const shape = arg('shape', 'vit-b32');
const ks = arg('k', '10,100').split(',').map(Number);
const reps = Number(arg('reps', '1'));
const threadList = arg('threads', '1').split(',').map(Number);
const engines = arg('engines', 'reference,wasm').split(',') as ('reference' | 'wasm')[];
const out = arg('out', '');
const M = 16;

const weights: TextWeights =
  shape === 'toy'
    ? loadTextWeights(readFileSync(new URL('../public/models/toy-clip/onnx/text_model.onnx', import.meta.url)), JSON.parse(readFileSync(new URL('../public/models/toy-clip/config.json', import.meta.url), 'utf8')))
    : randomTextWeights(randomShapeConfig(shape as 'small' | 'vit-b32'));

interface Runner {
  engine: 'reference' | 'wasm';
  threads: number;
  kernels: CpuKernels;
  pool?: MatmulPool;
  wasm?: WasmKernels;
}
const runners: Runner[] = [];
for (const engine of engines) {
  for (const t of threadList) {
    if (engine === 'reference') {
      const pool = t > 1 ? nodeMatmulPool(t - 1) : undefined;
      await pool?.ready;
      runners.push({ engine, threads: t, kernels: referenceKernels, pool });
    } else {
      const wasm = await WasmKernels.create({ threads: t });
      wasm.adoptWeights(weights);
      runners.push({ engine, threads: t, kernels: wasm, wasm });
    }
  }
}
const wasmInfo = runners.find((r) => r.wasm)?.wasm;
if (wasmInfo) console.log(`wasm kernels: ${wasmInfo.relaxed ? 'relaxed SIMD (FMA)' : 'SIMD128 (no relaxed SIMD in this runtime: multiply and add)'}`);

const rows = [];
for (const K of ks) {
  const input = stepInput(weights.config, { k: K, csc: false, position: 'end' }, M);
  const layout = promptLayout({ tokenIds: input.tokenIds, nameLens: input.nameLens, nCtx: M, csc: false, position: 'end' }, weights.config.V);
  const T = usedLength(layout);
  const P = sharedPrefixLength(layout);
  const gflop = pathFlops(modelShape(weights.config), K, 32, T, P, 0) / 1e9;
  const stepIn = { layout, ctx: input.ctx, imageFeatures: input.imageFeatures as Float32Array, labels: Int32Array.from(input.labels as number[]), logitScale: 100 };
  const step = (r: Runner) => {
    installMatmulPool(r.pool ?? null);
    const run = () => {
      const s = coopStepCpu(weights, stepIn, 'fast', r.kernels);
      return { loss: s.loss, grad: Float32Array.from(s.gradCtx) };
    };
    return r.wasm ? r.wasm.run(run) : run();
  };
  const times = new Map<Runner, number[]>(runners.map((r) => [r, []]));
  const diffs = new Map<Runner, number>(runners.map((r) => [r, 0]));
  let ref: { loss: number; grad: Float32Array } | undefined;
  for (let rep = 0; rep < reps; rep++) {
    for (const r of runners) {
      if (rep === 0 && r.wasm) step(r); // the first step sizes the arena: not what a run's steps cost
      const t0 = performance.now();
      const res = step(r);
      times.get(r)!.push(performance.now() - t0);
      ref ??= engines[0] === 'reference' ? res : undefined;
      if (ref) {
        let d = Math.abs(res.loss - ref.loss) / Math.abs(ref.loss);
        let gmax = 0;
        for (let i = 0; i < ref.grad.length; i++) gmax = Math.max(gmax, Math.abs(ref.grad[i]));
        for (let i = 0; i < res.grad.length; i++) d = Math.max(d, Math.abs(res.grad[i] - ref.grad[i]) / gmax);
        diffs.set(r, Math.max(diffs.get(r)!, d));
      }
    }
  }
  installMatmulPool(null);
  const base = Math.min(...times.get(runners[0])!);
  for (const r of runners) {
    const ms = Math.min(...times.get(r)!);
    const row = { shape, k: K, m: M, engine: r.engine, threads: r.threads, ms, gflop_per_step: gflop, gflops: gflop / (ms / 1000), speedup_vs_first: base / ms, max_rel_diff_vs_reference: ref ? diffs.get(r)! : null, reps, ...(r.wasm ? { relaxed_simd: r.wasm.relaxed } : {}) };
    rows.push(row);
    console.log(`${shape} K=${K} ${r.engine.padEnd(9)} ${r.threads} thread${r.threads > 1 ? 's' : ' '}: ${(ms / 1000).toFixed(3)} s per step (best of ${reps}), ${gflop.toFixed(2)} GFLOP, ${row.gflops.toFixed(2)} GFLOP/s, ${row.speedup_vs_first.toFixed(2)}× vs ${runners[0].engine}/${runners[0].threads}; max rel diff vs reference ${row.max_rel_diff_vs_reference?.toExponential(2) ?? '—'}`);
  }
}
for (const r of runners) {
  r.pool?.destroy();
  r.wasm?.destroy();
}
if (out) writeFileSync(out, JSON.stringify(rows, null, 1) + '\n');
