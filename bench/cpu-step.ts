/**
 * `npx tsx bench/cpu-step.ts [--shape toy|small|vit-b32] [--k 10,100] [--threads 1,2] [--reps N] [--out FILE]`: the
 * CPU twin's CoOp step (src/engine/cpu-text-encoder.ts's coopStepCpu, the engine of a browser without WebGPU and of
 * the app on a software adapter) on T threads (T − 1 worker_threads besides this one, src/engine/ops/matmul/cpu-pool.ts;
 * each T in turn per K, side by side; the steps' results are checked equal across T): fast path, unified context at the end, M = 16, batch 32, as the WGSL rows of
 * `npm run bench`. GFLOP per step is the planner's (pathFlops), so the rate compares with the GPU's.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { coopStepCpu } from '../src/engine/cpu-text-encoder';
import { loadTextWeights, type TextWeights } from '../src/engine/model/text-weights';
import { pathFlops } from '../src/engine/plan';
import { promptLayout, sharedPrefixLength, usedLength } from '../src/engine/prompt';
import { modelShape, randomShapeConfig, randomTextWeights } from './lib/shapes';
import { stepInput } from './lib/text-step';
import { installMatmulPool, nodeMatmulPool, type MatmulPool } from '../src/engine/ops/matmul/cpu-pool';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const shape = arg('shape', 'vit-b32');
const ks = arg('k', '10,100').split(',').map(Number);
const reps = Number(arg('reps', '1'));
const threadList = arg('threads', '1').split(',').map(Number);
const pools = new Map<number, MatmulPool>();
for (const t of threadList) if (t > 1) pools.set(t, nodeMatmulPool(t - 1));
await Promise.all([...pools.values()].map((p) => p.ready));
const out = arg('out', '');
const M = 16;

const weights: TextWeights =
  shape === 'toy'
    ? loadTextWeights(readFileSync(new URL('../public/models/toy-clip/onnx/text_model.onnx', import.meta.url)), JSON.parse(readFileSync(new URL('../public/models/toy-clip/config.json', import.meta.url), 'utf8')))
    : randomTextWeights(randomShapeConfig(shape as 'small' | 'vit-b32'));
const rows = [];
for (const K of ks) {
  const input = stepInput(weights.config, { k: K, csc: false, position: 'end' }, M);
  const layout = promptLayout({ tokenIds: input.tokenIds, nameLens: input.nameLens, nCtx: M, csc: false, position: 'end' }, weights.config.V);
  const T = usedLength(layout);
  const P = sharedPrefixLength(layout);
  const gflop = pathFlops(modelShape(weights.config), K, 32, T, P, 0) / 1e9;
  const times = new Map<number, number[]>(threadList.map((t) => [t, []]));
  let ref: { loss: number; grad: Float32Array | Float64Array } | undefined;
  let maxDiff = 0;
  for (let r = 0; r < reps; r++) {
    for (const t of threadList) {
      installMatmulPool(pools.get(t) ?? null);
      const t0 = performance.now();
      const res = coopStepCpu(weights, { layout, ctx: input.ctx, imageFeatures: input.imageFeatures as Float32Array, labels: Int32Array.from(input.labels as number[]), logitScale: 100 });
      times.get(t)!.push(performance.now() - t0);
      if (!ref) ref = { loss: res.loss, grad: res.gradCtx };
      else {
        maxDiff = Math.max(maxDiff, Math.abs(res.loss - ref.loss));
        for (let i = 0; i < res.gradCtx.length; i++) maxDiff = Math.max(maxDiff, Math.abs(res.gradCtx[i] - ref.grad[i]));
      }
    }
  }
  installMatmulPool(null);
  const base = Math.min(...times.get(threadList[0])!);
  for (const t of threadList) {
    const ms = Math.min(...times.get(t)!);
    const row = { shape, k: K, m: M, threads: t, ms, gflop_per_step: gflop, gflops: gflop / (ms / 1000), speedup_vs_first: base / ms, max_abs_diff_vs_first: maxDiff, reps };
    rows.push(row);
    console.log(`${shape} K=${K}: ${(ms / 1000).toFixed(2)} s per step (best of ${reps}), ${gflop.toFixed(2)} GFLOP, ${row.gflops.toFixed(2)} GFLOP/s, ${t} thread${t > 1 ? 's' : ''} (${row.speedup_vs_first.toFixed(2)}× vs ${threadList[0]}; max |diff| ${maxDiff})`);
  }
}
for (const p of pools.values()) p.destroy();
if (out) writeFileSync(out, JSON.stringify(rows, null, 1) + '\n');
