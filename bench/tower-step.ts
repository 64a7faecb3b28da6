/**
 * `npx tsx bench/tower-step.ts [--engine wasm|wgsl] [--shape vit-b32|toy] [--k 10,100] [--threads 2] [--reps 3]
 * [--out FILE]`: what a training step of each prompt learner costs on one engine (the CPU engine's WASM SIMD kernels,
 * or the WGSL engine through Node's Dawn: bench/gpu-check.sh runs it on a real GPU), side by side in one run,
 * through the methods' own loss functions (src/coop/prompt-learner.ts), each with its official batch size and M:
 *
 * - CoOp: M = 16, batch 32, one shared context: the prompts share the prefix [SOS, ctx] (the engine's CoOp step);
 * - CoCoOp: M = 4, batch 1 (its recipe) and 4, a context per image × class: B·K rows sharing only SOS;
 * - deep prompts: M = 4, tokens at blocks 1..L−1, batch 4: K rows, the prefix [SOS, ctx] shared with the tokens;
 * - TCP: M = 4, class tokens at block 8 (per row: SOS only shared), batch 32;
 * - DePT on CoOp: M = 16, batch 4 (the host adds FiLMs and a head, no tower work).
 *
 * Per row: the step time (best of reps), the text rows and positions it ran (rows × (T − P) + P) and the planner's
 * FLOP count for them (pathFlops, forward + backward, no recomputation), the ms per training image, and the time of
 * one official run on 16 shots per class (epochs × ⌈16K / batch⌉ steps × the step time: an estimate from the
 * measured step, evaluation not included).
 */
import { writeFileSync, readFileSync } from 'node:fs';
import { coopStepCpu } from '../src/engine/cpu-text-encoder';
import { makeCpuTowerStep } from '../src/engine/cpu-tower';
import { makeGpuTowerStep } from '../src/engine/gpu-tower';
import { createTextEngine, type TextEngine } from '../src/engine/text-engine';
import { loadTextWeights, type TextWeights } from '../src/engine/model/text-weights';
import { pathFlops } from '../src/engine/plan';
import { promptLayout, sharedPrefixLength, usedLength } from '../src/engine/prompt';
import { WasmKernels } from '../src/engine/wasm/kernels';
import { promptLearner, type LearnerConfig } from '../src/coop/prompt-learner';
import { successorConfig, withSuccessorExtras, DEFAULT_SUCCESSOR_SETTINGS } from '../src/coop/successors';
import type { ContextVectors } from '../src/coop/context-init';
import type { EngineStepFn } from '../src/coop/prompt-methods';
import { modelShape, randomShapeConfig, randomTextWeights, syntheticTokenIds } from './lib/shapes';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const shape = arg('shape', 'vit-b32');
const ks = arg('k', '10,100').split(',').map(Number);
const reps = Number(arg('reps', '3'));
const threads = Number(arg('threads', '2'));
const out = arg('out', '');
const engineName = arg('engine', 'wasm');

const weights: TextWeights =
  shape === 'toy'
    ? loadTextWeights(readFileSync(new URL('../public/models/toy-clip/onnx/text_model.onnx', import.meta.url)), JSON.parse(readFileSync(new URL('../public/models/toy-clip/config.json', import.meta.url), 'utf8')))
    : randomTextWeights(randomShapeConfig(shape as 'small' | 'vit-b32'));
const { D, E, L, V } = weights.config;
const kern = engineName === 'wasm' ? await WasmKernels.create({ threads }) : null;
kern?.adoptWeights(weights);
let gpu: TextEngine | null = null;
let device: GPUDevice | null = null;
if (engineName === 'wgsl') {
  const { dawnGpu } = await import('../src/engine/gpu/dawn-node');
  const { requestEngineDevice } = await import('../src/engine/gpu/device');
  device = await requestEngineDevice(await dawnGpu());
  gpu = createTextEngine(device, weights);
} else if (!kern) throw new Error(`--engine must be wasm or wgsl (got ${engineName})`);
const engineLabel = kern ? `WASM ${kern.relaxed ? 'relaxed SIMD (FMA)' : 'SIMD128'}, ${kern.threads} thread(s)` : 'WGSL (Dawn)';
console.log(`${shape}: D ${D}, L ${L}, E ${E}; ${engineLabel}`);

function unitRows(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s / 4294967296 - 0.5);
  const x = new Float32Array(n * E).map(() => next());
  for (let i = 0; i < n; i++) {
    const r = x.subarray(i * E, (i + 1) * E);
    const norm = Math.hypot(...r);
    for (let e = 0; e < E; e++) r[e] /= norm;
  }
  return x;
}

interface Method {
  name: string;
  /** Learner config method ('coop' or a successor). */
  method: 'coop' | 'cocoop' | 'deep' | 'tcp' | 'dept-coop';
  M: number;
  batch: number;
  epochs: number;
  /** Text rows per step, shared prefix: for the FLOP count. */
  rows: (K: number, B: number) => number;
  prefix: (P: number) => number;
}

const methods: Method[] = [
  { name: 'CoOp', method: 'coop', M: 16, batch: 32, epochs: 200, rows: (K) => K, prefix: (P) => P },
  { name: 'CoCoOp (batch 1)', method: 'cocoop', M: 4, batch: 1, epochs: 10, rows: (K, B) => K * B, prefix: () => 1 },
  { name: 'CoCoOp (batch 4)', method: 'cocoop', M: 4, batch: 4, epochs: 10, rows: (K, B) => K * B, prefix: () => 1 },
  { name: 'Deep prompts', method: 'deep', M: 4, batch: 4, epochs: 5, rows: (K) => K, prefix: (P) => P },
  { name: 'TCP', method: 'tcp', M: 4, batch: 32, epochs: 50, rows: (K) => K, prefix: () => 1 },
  { name: 'DePT (CoOp)', method: 'dept-coop', M: 16, batch: 4, epochs: 10, rows: (K) => K, prefix: (P) => P },
];

const rowsOut: Record<string, unknown>[] = [];
for (const K of ks) {
  let coopMs = NaN;
  for (const m of methods) {
    const { tokenIds, nameLens } = syntheticTokenIds(V, K, m.M);
    const prompts = { tokenIds, nameLens, position: 'end' as const };
    const layout = promptLayout({ tokenIds, nameLens, nCtx: m.M, csc: false, position: 'end' }, V);
    const T = usedLength(layout);
    const P = m.prefix(sharedPrefixLength(layout));
    const R = m.rows(K, m.batch);
    const dims = { D, E, L, K };
    let ctx: ContextVectors = { data: new Float32Array(m.M * D).map((_, i) => 0.02 * Math.sin(i)), nCtx: m.M, dim: D, cscClasses: 0 };
    let cfg: LearnerConfig = { method: 'coop' };
    if (m.method !== 'coop') {
      ctx = withSuccessorExtras(ctx, m.method, dims, 1);
      cfg = successorConfig(m.method, DEFAULT_SUCCESSOR_SETTINGS, unitRows(K, 7), 100, dims);
    }
    const step: EngineStepFn = gpu
      ? (cv, imageFeatures, labels, textGrad, secondGrad) => gpu!.step({ ctx: cv.data, ...prompts, csc: false, imageFeatures, labels, logitScale: 100, textGrad, secondGrad })
      : (cv, imageFeatures, labels, textGrad, secondGrad) =>
          kern!.run(() => {
            const r = coopStepCpu(weights, { layout, ctx: cv.data, imageFeatures, labels, logitScale: 100, textGrad, secondGrad }, 'fast', kern!);
            return { loss: r.loss, logits: Float32Array.from(r.logits), gradCtx: Float32Array.from(r.gradCtx) };
          });
    const tower = gpu ? makeGpuTowerStep(gpu, prompts) : makeCpuTowerStep(weights, prompts, kern!, (f) => kern!.run(f));
    const learner = promptLearner(cfg, { step, tower, textFeatures: () => Promise.reject(new Error('not scored')) });
    const features = unitRows(m.batch, 11);
    const labels = Int32Array.from({ length: m.batch }, (_, n) => (n * 7) % K);
    await learner.lossAndGrad(ctx, features, labels); // the first step sizes the arena
    const times: number[] = [];
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      await learner.lossAndGrad(ctx, features, labels);
      times.push(performance.now() - t0);
    }
    const ms = Math.min(...times);
    if (m.method === 'coop') coopMs = ms;
    const gflop = pathFlops(modelShape(weights.config), R, 0, T, P, 0) / 1e9;
    const steps = Math.ceil((16 * K) / m.batch);
    const runS = (m.epochs * steps * ms) / 1000;
    const row = { engine: engineLabel, shape, k: K, method: m.name, m: m.M, batch: m.batch, rows: R, T, prefix: P, positions: P + R * (T - P), ms, gflop_per_step: gflop, gflops: gflop / (ms / 1000), vs_coop_step: ms / coopMs, ms_per_image: ms / m.batch, official_epochs: m.epochs, steps_per_epoch_16_shots: steps, official_run_s_estimate: runS, threads: kern?.threads ?? null, reps };
    rowsOut.push(row);
    console.log(
      `${shape} K=${String(K).padEnd(4)} ${m.name.padEnd(17)} M=${String(m.M).padEnd(2)} batch ${String(m.batch).padEnd(2)}: ${R} rows × ${T - P} + ${P} positions, ${ms.toFixed(1)} ms/step (${(ms / coopMs).toFixed(2)}× CoOp's), ${(ms / m.batch).toFixed(1)} ms/image, ${gflop.toFixed(2)} GFLOP → ${row.gflops.toFixed(1)} GFLOP/s; official run at 16 shots ≈ ${m.epochs} × ${steps} steps = ${runS.toFixed(0)} s`,
    );
  }
}
kern?.destroy();
gpu?.destroy();
device?.destroy();
if (out) writeFileSync(out, JSON.stringify(rowsOut, null, 1) + '\n');
