/**
 * The text engine that trains, chosen by measurement (src/engine/choose-path.ts's rule): the WGSL engine and the
 * CPU twin each take one CoOp step of a typical shape, and the faster one is kept. Used by the training worker
 * (engine-factory.ts, `?engine=`) and meant for the command line's `--engine auto` as well: it needs only the
 * weights and, for the GPU path, a `GPU` object (navigator.gpu in a worker, Dawn's in Node).
 */
import { choosePath, timeProbe, type PathChoice, type PathName, type PathRate } from '../engine/choose-path';
import type { TextWeights } from '../engine/model/text-weights';
import type { PromptSpec } from '../engine/prompt';
import { CpuTextEngine } from './cpu-text-engine';
import { GpuTextEngine } from './gpu-text-engine';
import type { TextEngineLike } from './text-engine';
import type { MatmulPool } from '../engine/ops/matmul/cpu-pool';
import type { WasmKernels } from '../engine/wasm/kernels';

/** The probe's step: CoOp's defaults (16 context tokens, unified, class name at the end), 10 classes, batch 32. */
export const PROBE_SHAPE = { K: 10, M: 16, N: 32 } as const;
/** How long the GPU probe may run (warm-up, which compiles the pipelines, and one timed step) before it stops. */
const GPU_CAP_MS = 6000;

const LABELS = { gpu: 'WGSL engine', cpu: 'CPU engine' };

export interface ChooseTextEngineOptions {
  weights: TextWeights;
  /** exp(logit_scale) of the model. */
  logitScale: number;
  /** navigator.gpu, or Dawn's GPU object; undefined when there is no WebGPU. */
  gpu?: GPU;
  /** A forced engine, and what forced it (e.g. '?engine=cpu', '--engine cpu'). */
  forced?: { path: PathName; by: string };
  /** Called if the GPU engine's device is lost later. */
  onLost: (message: string) => void;
  /**
   * Makes worker threads for the CPU twin's matmuls (Node's or Web Workers, the host's kind); called only when the CPU
   * twin may train (not when the GPU is forced), and the pool is destroyed if the GPU wins the probe.
   */
  cpuPool?: () => MatmulPool | null;
  /**
   * Makes the CPU engine's WASM SIMD kernels (with their threads); called before `cpuPool`, which serves only when
   * this is absent or gives null (no WebAssembly SIMD, or the JavaScript reference asked for).
   */
  cpuKernels?: () => Promise<WasmKernels | null>;
}

export interface ChosenTextEngine {
  engine: TextEngineLike;
  choice: PathChoice;
}

/** A synthetic prompt set of the probe's shape in the model's own vocabulary (ids < V; EOS = V − 1 is the max). */
export function probePrompts(weights: TextWeights): PromptSpec {
  const { V, P } = weights.config;
  const { K, M } = PROBE_SHAPE;
  const tokenIds: Int32Array[] = [];
  const nameLens = new Int32Array(K);
  for (let k = 0; k < K; k++) {
    const n = 1 + (k % 3);
    nameLens[k] = n;
    const ids = new Int32Array(P);
    let t = 0;
    ids[t++] = V - 2;
    for (let j = 0; j < M; j++) ids[t++] = 1;
    for (let j = 0; j < n; j++) ids[t++] = 3 + ((k * 7 + j * 13) % Math.max(1, V - 6));
    ids[t++] = 2;
    ids[t++] = V - 1;
    tokenIds.push(ids);
  }
  return { tokenIds, nameLens, nCtx: M, csc: false, position: 'end' };
}

/** One probe step's inputs: small random context, unit-norm random image features, labels 0..K−1. */
function probeInputs(weights: TextWeights) {
  const { D, E } = weights.config;
  const { K, M, N } = PROBE_SHAPE;
  let s = 7;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const ctx = Float32Array.from({ length: M * D }, () => 0.02 * rnd());
  const img = new Float32Array(N * E);
  for (let i = 0; i < N; i++) {
    let ss = 0;
    for (let e = 0; e < E; e++) ss += (img[i * E + e] = rnd()) ** 2;
    const inv = 1 / Math.sqrt(ss);
    for (let e = 0; e < E; e++) img[i * E + e] *= inv;
  }
  const labels = Int32Array.from({ length: N }, (_, i) => i % K);
  return { ctx, img, labels };
}

function probeEngine(engine: TextEngineLike, weights: TextWeights, capMs?: number) {
  engine.setPrompts(probePrompts(weights));
  const { ctx, img, labels } = probeInputs(weights);
  return timeProbe(() => engine.step(ctx, img, labels), { items: 1, warmups: 1, capMs });
}

function rate(r: PathRate): PathRate {
  const { perSecond, atMost, ms, note } = r;
  return { perSecond, atMost, ms, note };
}

function fallbackInfo(adapter: GPUAdapter | null): { fallback: boolean; name?: string } {
  if (!adapter) return { fallback: false };
  const info = adapter.info as (GPUAdapterInfo & { isFallbackAdapter?: boolean }) | undefined;
  const fallback = !!(info?.isFallbackAdapter ?? (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter);
  const name = [info?.vendor, info?.architecture, info?.description].filter(Boolean).join(' ') || undefined;
  return { fallback, name };
}

/** How long the pool's workers may take to start before the CPU twin runs on one thread instead. */
const POOL_START_MS = 10_000;

/** The pool once its workers are up; null (and the pool destroyed) if one fails or hangs: one thread still trains. */
async function poolReady(pool: MatmulPool): Promise<MatmulPool | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), POOL_START_MS)));
  try {
    await Promise.race([pool.ready, late]);
    return pool;
  } catch {
    pool.destroy();
    return null;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The CPU engine: on the WASM SIMD kernels where they can be made, else on the JavaScript reference (with its matmul
 * workers, if any).
 */
async function cpuEngine(opts: ChooseTextEngineOptions): Promise<CpuTextEngine> {
  const { weights, logitScale } = opts;
  let kernels: WasmKernels | null = null;
  try {
    kernels = (await opts.cpuKernels?.()) ?? null;
  } catch (e) {
    // No WebAssembly SIMD, or its threads would not start: the reference still trains, and says so in its label.
    console.warn(`the WASM CPU engine could not start (${(e as Error).message}); the JavaScript reference trains instead`);
  }
  if (kernels) return new CpuTextEngine({ weights, logitScale, kernels });
  const pool = opts.cpuPool?.();
  return new CpuTextEngine({ weights, logitScale, pool: pool ? await poolReady(pool) : null });
}

/** The faster text engine for these weights on this machine, with both rates and the reason. */
export async function chooseTextEngine(opts: ChooseTextEngineOptions): Promise<ChosenTextEngine> {
  const { weights, logitScale, gpu, forced } = opts;
  const unit = 'steps/s';
  const probe = `probe: one step of ${PROBE_SHAPE.K} classes, ${PROBE_SHAPE.M} context tokens, batch ${PROBE_SHAPE.N}`;
  // The CPU engine's threads must be up before the probe: its rate is measured as it will train.
  const cpu = forced?.path === 'gpu' ? null : await cpuEngine(opts);
  const done = (engine: TextEngineLike, choice: PathChoice): ChosenTextEngine => {
    engine.choice = choice;
    if (engine instanceof CpuTextEngine) engine.detail = `CPU (${engine.describe()}): ${choice.reason}`;
    return { engine, choice };
  };
  if (forced?.path === 'cpu') return done(cpu!, choosePath({ labels: LABELS, unit, probe, forced, rates: {} }));
  if (!gpu) return done(cpu!, choosePath({ labels: LABELS, unit, probe, gpuUnavailable: 'no WebGPU here', rates: {} }));

  let adapterInfo: { fallback: boolean; name?: string } = { fallback: false };
  try {
    adapterInfo = fallbackInfo(await gpu.requestAdapter({ powerPreference: 'high-performance' }));
  } catch {
    // requestAdapter failing shows again (with its message) when the engine asks for its device.
  }
  if (adapterInfo.fallback && !forced) {
    // The rule picks the CPU on a software adapter whatever a probe says, and probing it is costly: building the
    // WGSL engine (pipelines compiled on the CPU, the self-check) took 31 s in Node on SwiftShader for the toy model.
    const cpuRate = await probeEngine(cpu!, weights);
    const note = 'not probed: software fallback adapter (?engine=webgpu forces it)';
    return done(cpu!, choosePath({ labels: LABELS, unit, probe, fallbackAdapter: true, adapter: adapterInfo.name, rates: { gpu: { note }, cpu: rate(cpuRate) } }));
  }
  const made = await GpuTextEngine.create(gpu, weights, logitScale, opts.onLost);
  if (!('engine' in made)) {
    if (forced?.path === 'gpu') throw new Error(`the WGSL engine was asked for (${forced.by}) but cannot run: ${made.reason}`);
    return done(cpu!, choosePath({ labels: LABELS, unit, probe, gpuUnavailable: made.reason, rates: {} }));
  }
  const gpuEngine = made.engine;
  if (forced?.path === 'gpu') return done(gpuEngine, choosePath({ labels: LABELS, unit, probe, forced, adapter: adapterInfo.name, rates: {} }));

  // The CPU first: its rate is known in a fraction of a second and needs no device.
  const cpuRate = await probeEngine(cpu!, weights);
  const gpuProbe = await probeEngine(gpuEngine, weights, GPU_CAP_MS);
  const choice = choosePath({
    labels: LABELS,
    unit,
    probe,
    fallbackAdapter: adapterInfo.fallback,
    adapter: adapterInfo.name,
    rates: { gpu: rate(gpuProbe), cpu: rate(cpuRate) },
  });
  if (choice.choice === 'gpu') {
    cpu!.dispose();
    return done(gpuEngine, choice);
  }
  // Its device is destroyed once the probe's queued work is done (a submitted step cannot be cancelled).
  void gpuProbe.settled.then(() => gpuEngine.dispose());
  return done(cpu!, choice);
}
