/**
 * `npx tsx bench/cpu-matmul.ts [--shape vit-b32|toy] [--k 10] [--threads 1,2] [--reps 20] [--out FILE]`: GFLOP/s of
 * every matmul shape of a CoOp step (the shared prefix's rows and the classes' rows, X·W forward and dY·Wᵀ backward
 * through q/k/v/out, fc1, fc2 and the projection) on the WASM SIMD kernels (src/engine/wasm/) and, side by side in
 * the same run, on onnxruntime-web's own WASM backend (MLAS compiled to WebAssembly SIMD) running a one-node model
 * (MatMul, or Gemm with transB for dY·Wᵀ) whose B is a constant initializer, so ORT packs it once as we pack the
 * weights. Both compute in fp32 from the same operands; the rows report the larger relative difference.
 */
import { writeFileSync } from 'node:fs';
import * as ort from 'onnxruntime-web';
import { WasmKernels } from '../src/engine/wasm/kernels';
import { modelBytes, modelMsg } from '../tools/clip-standin/onnx-proto';
import { promptLayout, sharedPrefixLength, usedLength } from '../src/engine/prompt';
import { randomShapeConfig } from './lib/shapes';
import { stepInput } from './lib/text-step';
import type { TextConfig } from '../src/engine/model/text-weights';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const shape = arg('shape', 'vit-b32');
const K = Number(arg('k', '10'));
const threadList = arg('threads', '1,2').split(',').map(Number);
const reps = Number(arg('reps', '20'));
const out = arg('out', '');

const cfg: TextConfig = shape === 'toy' ? { D: 128, L: 4, H: 4, V: 0, E: 128, F: 512, P: 77, eps: 1e-5 } : randomShapeConfig('vit-b32');
// The step's row counts: the shared prefix [SOS][V]1..M, and each class's own positions.
const input = stepInput({ ...cfg, V: Math.max(cfg.V, 64) }, { k: K, csc: false, position: 'end' }, 16);
const layout = promptLayout({ tokenIds: input.tokenIds, nameLens: input.nameLens, nCtx: 16, csc: false, position: 'end' }, Math.max(cfg.V, 64));
const P = sharedPrefixLength(layout);
const rowsClasses = K * (usedLength(layout) - P);
const { D, F, E } = cfg;

interface Case {
  name: string;
  m: number;
  n: number;
  k: number;
  transB: boolean;
}
const cases: Case[] = [];
for (const [who, m] of [['prefix', P], ['classes', rowsClasses]] as const) {
  cases.push({ name: `${who} X·Wqkvo`, m, n: D, k: D, transB: false });
  cases.push({ name: `${who} X·W1`, m, n: F, k: D, transB: false });
  cases.push({ name: `${who} X·W2`, m, n: D, k: F, transB: false });
  cases.push({ name: `${who} dY·Wqkvoᵀ`, m, n: D, k: D, transB: true });
  cases.push({ name: `${who} dY·W1ᵀ`, m, n: D, k: F, transB: true });
  cases.push({ name: `${who} dY·W2ᵀ`, m, n: F, k: D, transB: true });
}
cases.push({ name: 'classes head X·Wproj', m: K, n: E, k: D, transB: false });

const rnd = (n: number, seed: number) => {
  let s = seed;
  return Float32Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5) * 0.2);
};

function oneNodeModel(c: Case, w: Float32Array): Uint8Array {
  // w is the stored weight: [k, n] for X·W, [n, k] for dY·Wᵀ (Gemm transB = 1).
  return modelBytes(
    modelMsg({
      graphName: 'mm',
      nodes: [c.transB ? { op: 'Gemm', inputs: ['a', 'w'], outputs: ['c'], name: 'g', attrs: { transB: 1 } } : { op: 'MatMul', inputs: ['a', 'w'], outputs: ['c'], name: 'g' }],
      initializers: [{ name: 'w', dims: c.transB ? [c.n, c.k] : [c.k, c.n], float: w }],
      inputs: [{ name: 'a', elemType: 1, dims: [c.m, c.k] }],
      outputs: [{ name: 'c', elemType: 1, dims: [c.m, c.n] }],
      producer: 'bench',
      opset: 14,
      irVersion: 7,
    }),
  );
}

const best = (f: () => void) => {
  f();
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    f();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
};

const rows = [];
console.log(`${shape}, K = ${K}: prefix ${P} rows, classes ${rowsClasses} rows; median of ${reps}`);
for (const t of threadList) {
  const kern = await WasmKernels.create({ threads: t });
  ort.env.wasm.numThreads = t;
  for (const [ci, c] of cases.entries()) {
    const a = rnd(c.m * c.k, 1 + ci);
    const w = rnd(c.k * c.n, 100 + ci);
    // Ours: the weight packed once, as the engine does at load.
    if (c.transB) kern.packWeight(w, c.n, c.k);
    else kern.packWeight(w, c.k, c.n);
    let ours: Float32Array = new Float32Array(0);
    const oursMs = best(() => {
      ours = kern.run(() => Float32Array.from(kern.matmul(a, w, { m: c.m, n: c.n, k: c.k, transB: c.transB })));
    });
    const session = await ort.InferenceSession.create(oneNodeModel(c, w), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
    const feed = { a: new ort.Tensor('float32', a, [c.m, c.k]) };
    await session.run(feed);
    const times: number[] = [];
    let theirs: Float32Array = new Float32Array(0);
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      theirs = (await session.run(feed)).c.data as Float32Array;
      times.push(performance.now() - t0);
    }
    await session.release();
    times.sort((x, y) => x - y);
    const ortMs = times[Math.floor(times.length / 2)];
    let diff = 0;
    let mx = 0;
    for (let i = 0; i < ours.length; i++) {
      diff = Math.max(diff, Math.abs(ours[i] - theirs[i]));
      mx = Math.max(mx, Math.abs(theirs[i]));
    }
    const gf = (ms: number) => (2 * c.m * c.n * c.k) / (ms * 1e6);
    const row = { shape, k_classes: K, case: c.name, m: c.m, n: c.n, k: c.k, threads: t, wasm_ms: oursMs, wasm_gflops: gf(oursMs), ort_ms: ortMs, ort_gflops: gf(ortMs), ratio: ortMs / oursMs, max_rel_diff: diff / mx };
    rows.push(row);
    console.log(`${t} thr ${c.name.padEnd(22)} ${`${c.m}×${c.n}×${c.k}`.padEnd(15)} ours ${row.wasm_gflops.toFixed(1).padStart(5)} GFLOP/s  ORT-web ${row.ort_gflops.toFixed(1).padStart(5)} GFLOP/s  (${row.ratio.toFixed(2)}×; rel diff ${row.max_rel_diff.toExponential(1)})`);
  }
  kern.destroy();
}
if (out) writeFileSync(out, JSON.stringify(rows, null, 1) + '\n');
