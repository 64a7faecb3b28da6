/**
 * `--profile`: one CoOp step, kernel by kernel. The step runs once as usual (pipelines compiled, buffers filled);
 * a second step is recorded dispatch by dispatch (src/engine/gpu/dispatch.ts's `onDispatch`: pipeline, bind
 * group, workgroups, FLOPs, pass label), and each recorded dispatch is then replayed alone and timed: with
 * timestamp queries where the device has 'timestamp-query' (one pass per dispatch, all in one submit, GPU time),
 * else one submit per dispatch, wall clock to `onSubmittedWorkDone` less the time of an empty submit.
 * Replaying on the step's own buffers after the step runs the same work (values differ, times do not).
 */
import { onDispatch, type RecordedDispatch } from '../../src/engine/gpu/dispatch';
import { createTextEngine } from '../../src/engine/text-engine';
import type { TextWeights } from '../../src/engine/model/text-weights';
import { stepInput } from './text-step';
import { median, now, type Log } from './timing';
import type { ShapeName } from './types';

export type OpGroup = 'matmul' | 'attention' | 'norms' | 'elementwise' | 'loss';
export const OP_GROUPS: OpGroup[] = ['matmul', 'attention', 'norms', 'elementwise', 'loss'];

export interface ProfileGroupRow {
  group: OpGroup;
  dispatches: number;
  ms: number;
  /** Of the summed kernel times. */
  share: number;
  gflop: number;
  gflops: number | null;
}

export interface ProfileKernelRow {
  key: string;
  group: OpGroup;
  dispatches: number;
  ms: number;
  gflop: number;
  gflops: number | null;
}

export interface ProfileResult {
  shape: ShapeName;
  k: number;
  m: number;
  /** 'timestamp-query' (GPU time per pass) or 'submit-per-kernel' (wall clock per submit, empty submit subtracted). */
  method: 'timestamp-query' | 'submit-per-kernel';
  /** The whole step, timed as one (the engine's one submit, readback included). */
  step_ms: number;
  /** Sum of the kernels' times: what the GPU spends, without the step's encoding and readback. */
  kernels_ms: number;
  dispatches: number;
  copies: number;
  submits: number;
  readback_bytes: number;
  step_gflop: number;
  step_gflops: number;
  /** The fastest single matmul dispatch of the step (GFLOP/s), and the step's rate as a fraction of it. */
  best_matmul_gflops: number | null;
  step_fraction_of_best_matmul: number | null;
  /** Empty-submit round trip subtracted from each kernel (submit-per-kernel only). */
  submit_overhead_ms: number | null;
  groups: ProfileGroupRow[];
  kernels: ProfileKernelRow[];
}

export function opGroup(d: Pick<RecordedDispatch, 'key' | 'pass'>): OpGroup {
  if (d.pass === 'loss') return 'loss';
  if (d.key.startsWith('matmul')) return 'matmul';
  if (d.key.startsWith('attention')) return 'attention';
  if (d.key.startsWith('layerNorm') || d.key.startsWith('l2norm')) return 'norms';
  if (d.key.startsWith('cosineCE')) return 'loss';
  return 'elementwise';
}

async function timeByTimestamps(device: GPUDevice, list: RecordedDispatch[]): Promise<number[]> {
  const n = list.length;
  const out: number[] = [];
  // Query sets hold at most 4096 queries: 2048 dispatches per batch.
  for (let start = 0; start < n; start += 2048) {
    const part = list.slice(start, start + 2048);
    const querySet = device.createQuerySet({ type: 'timestamp', count: 2 * part.length });
    const resolve = device.createBuffer({ size: 16 * part.length, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    const read = device.createBuffer({ size: 16 * part.length, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const enc = device.createCommandEncoder({ label: 'profile' });
    part.forEach((d, i) => {
      const pass = enc.beginComputePass({ timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } });
      pass.setPipeline(d.pipeline);
      pass.setBindGroup(0, d.bindGroup);
      pass.dispatchWorkgroups(...d.workgroups);
      pass.end();
    });
    enc.resolveQuerySet(querySet, 0, 2 * part.length, resolve, 0);
    enc.copyBufferToBuffer(resolve, 0, read, 0, 16 * part.length);
    device.queue.submit([enc.finish()]);
    await read.mapAsync(GPUMapMode.READ);
    const t = new BigUint64Array(read.getMappedRange().slice(0));
    read.unmap();
    for (let i = 0; i < part.length; i++) out.push(Number(t[2 * i + 1] - t[2 * i]) / 1e6);
    querySet.destroy();
    resolve.destroy();
    read.destroy();
  }
  return out;
}

async function timeBySubmits(device: GPUDevice, list: RecordedDispatch[]): Promise<{ ms: number[]; overhead: number }> {
  const empty: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = now();
    device.queue.submit([device.createCommandEncoder().finish()]);
    await device.queue.onSubmittedWorkDone();
    empty.push(now() - t0);
  }
  const overhead = median(empty);
  const ms: number[] = [];
  for (const d of list) {
    const enc = device.createCommandEncoder({ label: `profile ${d.key}` });
    const pass = enc.beginComputePass();
    pass.setPipeline(d.pipeline);
    pass.setBindGroup(0, d.bindGroup);
    pass.dispatchWorkgroups(...d.workgroups);
    pass.end();
    const t0 = now();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    ms.push(Math.max(0, now() - t0 - overhead));
  }
  return { ms, overhead };
}

/** Profiles one fast-path step (unified, class at the end) of `weights` at K classes and M context tokens. */
export async function profileStep(device: GPUDevice, shape: ShapeName, weights: TextWeights, k: number, m: number, log: Log): Promise<ProfileResult> {
  const engine = createTextEngine(device, weights, { mode: 'fast' });
  try {
    const input = stepInput(weights.config, { k, csc: false, position: 'end' }, m);
    log(`profile ${shape} K=${k}: warm-up step`);
    await engine.step(input);
    const recorded: RecordedDispatch[] = [];
    const stop = onDispatch(device, (d) => recorded.push(d));
    const t0 = now();
    let stats;
    try {
      stats = (await engine.step(input)).stats;
    } finally {
      stop();
    }
    const stepMs = now() - t0;
    log(`profile ${shape} K=${k}: step ${stepMs.toFixed(0)} ms, ${recorded.length} dispatches; timing each alone`);
    const useTs = device.features.has('timestamp-query');
    let ms: number[];
    let overhead: number | null = null;
    if (useTs) ms = await timeByTimestamps(device, recorded);
    else {
      const r = await timeBySubmits(device, recorded);
      ms = r.ms;
      overhead = r.overhead;
    }
    const kernelsMs = ms.reduce((a, b) => a + b, 0);
    const byKey = new Map<string, ProfileKernelRow>();
    const byGroup = new Map<OpGroup, ProfileGroupRow>(OP_GROUPS.map((g) => [g, { group: g, dispatches: 0, ms: 0, share: 0, gflop: 0, gflops: null }]));
    let bestMatmul: number | null = null;
    recorded.forEach((d, i) => {
      const group = opGroup(d);
      const key = `${group === 'loss' && !d.key.startsWith('cosineCE') && !d.key.startsWith('l2norm') ? 'loss ' : ''}${d.key}`;
      const row = byKey.get(key) ?? { key, group, dispatches: 0, ms: 0, gflop: 0, gflops: null };
      row.dispatches++;
      row.ms += ms[i];
      row.gflop += d.flops / 1e9;
      byKey.set(key, row);
      const g = byGroup.get(group)!;
      g.dispatches++;
      g.ms += ms[i];
      g.gflop += d.flops / 1e9;
      // Dispatches under 0.05 ms are timer noise, not a rate.
      if (group === 'matmul' && ms[i] > 0.05) bestMatmul = Math.max(bestMatmul ?? 0, d.flops / 1e6 / ms[i]);
    });
    const rate = (gflop: number, t: number) => (t > 0 && gflop > 0 ? gflop / (t / 1000) : null);
    const groups = [...byGroup.values()].map((g) => ({ ...g, share: kernelsMs > 0 ? g.ms / kernelsMs : 0, gflops: rate(g.gflop, g.ms) }));
    const kernels = [...byKey.values()].map((r) => ({ ...r, gflops: rate(r.gflop, r.ms) })).sort((a, b) => b.ms - a.ms);
    const stepGflop = recorded.reduce((a, d) => a + d.flops, 0) / 1e9;
    const stepGflops = stepGflop / (stepMs / 1000);
    return {
      shape,
      k,
      m,
      method: useTs ? 'timestamp-query' : 'submit-per-kernel',
      step_ms: stepMs,
      kernels_ms: kernelsMs,
      dispatches: stats.dispatches,
      copies: stats.copies,
      submits: stats.submits,
      readback_bytes: stats.readbackBytes,
      step_gflop: stepGflop,
      step_gflops: stepGflops,
      best_matmul_gflops: bestMatmul,
      step_fraction_of_best_matmul: bestMatmul ? stepGflops / bestMatmul : null,
      submit_overhead_ms: overhead,
      groups,
      kernels,
    };
  } finally {
    engine.destroy();
  }
}

/** The profile as Markdown tables. */
export function formatProfile(p: ProfileResult): string {
  const f = (x: number | null, d = 1) => (x === null ? '—' : x.toFixed(d));
  const lines = [
    `Profile: ${p.shape}, K = ${p.k}, M = ${p.m}, fast path, unified, class at the end (${p.method}${p.submit_overhead_ms !== null ? `, empty submit ${p.submit_overhead_ms.toFixed(2)} ms subtracted` : ''})`,
    `step ${p.step_ms.toFixed(1)} ms as one submit; kernels alone ${p.kernels_ms.toFixed(1)} ms; ${p.dispatches} dispatches, ${p.copies} copies/clears, ${p.submits} submit, ${p.readback_bytes} bytes read back`,
    `step ${p.step_gflop.toFixed(3)} GFLOP at ${p.step_gflops.toFixed(3)} GFLOP/s = ${p.step_fraction_of_best_matmul === null ? '—' : `${(100 * p.step_fraction_of_best_matmul).toFixed(0)}%`} of the best matmul dispatch (${f(p.best_matmul_gflops, 3)} GFLOP/s)`,
    '',
    '| op group    | dispatches | ms       | share | GFLOP   | GFLOP/s |',
    '|-------------|------------|----------|-------|---------|---------|',
    ...p.groups.map((g) => `| ${g.group.padEnd(11)} | ${String(g.dispatches).padStart(10)} | ${g.ms.toFixed(1).padStart(8)} | ${(100 * g.share).toFixed(1).padStart(4)}% | ${g.gflop.toFixed(3).padStart(7)} | ${f(g.gflops, 3).padStart(7)} |`),
    '',
    'Top kernels:',
    '| kernel                         | group       | n    | ms       | GFLOP/s |',
    '|--------------------------------|-------------|------|----------|---------|',
    ...p.kernels.slice(0, 12).map((r) => `| ${r.key.padEnd(30)} | ${r.group.padEnd(11)} | ${String(r.dispatches).padStart(4)} | ${r.ms.toFixed(1).padStart(8)} | ${f(r.gflops, 3).padStart(7)} |`),
  ];
  return lines.join('\n');
}
