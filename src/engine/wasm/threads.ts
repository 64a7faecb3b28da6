/**
 * The WASM engine's threads: workers that instantiate the same kernels on the same shared memory and take column
 * panels of a product as the calling thread hands them out.
 *
 * A product is published in a small shared control block (its arguments and a generation counter); every worker
 * and the caller take chunks of column panels from an atomic counter until none are left, then the caller waits
 * until every worker has reported done, so no worker can still be reading the arguments when the next product
 * overwrites them. Waiting spins briefly before it sleeps (Atomics.wait): a step issues a few hundred products
 * back to back, and a futex wake costs tens of microseconds. Blocking needs a thread that may wait: Node's main
 * thread or a Web Worker (the app's training worker), never a page's main thread.
 */
import type { KernelExports } from './module';
import { spawnNodeWorker, spawnWebWorker, type PoolWorker } from '../ops/matmul/cpu-pool';

// Control block (Int32 slots): the same numbers in the worker's source below.
const GEN = 0;
const NEXT = 1;
const DONE = 2;
const CHUNKS = 3;
const PER = 4;
const PANELS = 5;
const ARGS = 6; // pa, pb, c, ldc, m, n, k, alpha (f32 bits), bias, accumulate
const STARTED = 16;
const SLOTS = 32;
/**
 * Spins on the control block before sleeping, in loop iterations (~0.5–1 ms): the calling thread's own work between
 * two products (layer norm, attention, JavaScript) takes up to a few hundred microseconds, and a worker that fell
 * asleep meanwhile costs a futex wake on the next product.
 */
const SPIN = 200_000;

/** The worker's whole program: instantiate on the shared memory, then serve products until told to stop. */
export function kernelWorkerSource(): string {
  return `
let kernels, ctl, f32;
function serve() {
  let gen = Atomics.load(ctl, ${GEN});
  Atomics.add(ctl, ${STARTED}, 1);
  Atomics.notify(ctl, ${STARTED});
  for (;;) {
    for (let spin = 0; Atomics.load(ctl, ${GEN}) === gen; spin++) if (spin > ${SPIN}) Atomics.wait(ctl, ${GEN}, gen);
    gen = Atomics.load(ctl, ${GEN});
    const chunks = ctl[${CHUNKS}];
    if (chunks < 0) return;
    const per = ctl[${PER}], panels = ctl[${PANELS}];
    for (let i = Atomics.add(ctl, ${NEXT}, 1); i < chunks; i = Atomics.add(ctl, ${NEXT}, 1)) {
      const q0 = i * per;
      kernels.gemm(ctl[${ARGS}], ctl[${ARGS + 1}], ctl[${ARGS + 2}], ctl[${ARGS + 3}], ctl[${ARGS + 4}], ctl[${ARGS + 5}], ctl[${ARGS + 6}], f32[${ARGS + 7}], ctl[${ARGS + 8}], ctl[${ARGS + 9}], q0, Math.min(panels, q0 + per));
    }
    Atomics.add(ctl, ${DONE}, 1);
    Atomics.notify(ctl, ${DONE});
  }
}
async function init(m) {
  kernels = (await WebAssembly.instantiate(m.module, { env: { memory: m.memory } })).exports;
  ctl = new Int32Array(m.control);
  f32 = new Float32Array(m.control);
  serve();
}
if (typeof require === 'function') {
  const port = require('node:worker_threads').parentPort;
  port.once('message', init);
  port.postMessage('ready');
} else {
  self.onmessage = (e) => { if (e.data && e.data.module) init(e.data); };
  self.postMessage('ready');
}
`;
}

export interface GemmArgs {
  pa: number;
  pb: number;
  c: number;
  ldc: number;
  m: number;
  n: number;
  k: number;
  alpha: number;
  bias: number;
  accumulate: boolean;
  /** Column panels of 8. */
  panels: number;
}

export class KernelThreads {
  private readonly ctl: Int32Array;
  private readonly f32: Float32Array;
  private stopped = false;
  /** Products split over the threads so far. */
  pooled = 0;

  private constructor(private readonly workers: PoolWorker[], control: SharedArrayBuffer) {
    this.ctl = new Int32Array(control);
    this.f32 = new Float32Array(control);
  }

  /** The workers and the calling thread. */
  get threads(): number {
    return this.workers.length + 1;
  }

  /**
   * Starts `workers` workers on `memory` (shared) running `module`; resolves once every one serves. `web`: Web
   * Workers (a browser or a Web Worker), else Node's worker_threads.
   */
  static async start(module: WebAssembly.Module, memory: WebAssembly.Memory, workers: number, web: boolean): Promise<KernelThreads> {
    const source = kernelWorkerSource();
    const control = new SharedArrayBuffer(SLOTS * 4);
    const pool = Array.from({ length: workers }, () => (web ? spawnWebWorker(source) : spawnNodeWorker(source)));
    const self = new KernelThreads(pool, control);
    try {
      await Promise.all(pool.map((w) => w.ready));
      for (const w of pool) w.postMessage({ module, memory, control });
      // Wait (without blocking: this may be a page's thread) until every worker is in its serving loop.
      const t0 = Date.now();
      while (Atomics.load(self.ctl, STARTED) < workers) {
        if (Date.now() - t0 > 30_000) throw new Error('the WASM engine\'s worker threads did not start within 30 s');
        await new Promise((r) => setTimeout(r, 2));
      }
    } catch (e) {
      self.destroy();
      throw e;
    }
    return self;
  }

  /** One product over every thread; the caller computes its share with `kernels`. */
  gemm(kernels: KernelExports, g: GemmArgs): void {
    const { ctl } = this;
    const threads = this.threads;
    // Chunks of at least two panels, about four per thread: fine enough to balance, coarse enough to stay cheap.
    const per = Math.max(2, Math.ceil(g.panels / (4 * threads)));
    const chunks = Math.ceil(g.panels / per);
    if (this.stopped || chunks < 2) {
      kernels.gemm(g.pa, g.pb, g.c, g.ldc, g.m, g.n, g.k, g.alpha, g.bias, g.accumulate ? 1 : 0, 0, g.panels);
      return;
    }
    ctl[ARGS] = g.pa;
    ctl[ARGS + 1] = g.pb;
    ctl[ARGS + 2] = g.c;
    ctl[ARGS + 3] = g.ldc;
    ctl[ARGS + 4] = g.m;
    ctl[ARGS + 5] = g.n;
    ctl[ARGS + 6] = g.k;
    this.f32[ARGS + 7] = g.alpha;
    ctl[ARGS + 8] = g.bias;
    ctl[ARGS + 9] = g.accumulate ? 1 : 0;
    ctl[CHUNKS] = chunks;
    ctl[PER] = per;
    ctl[PANELS] = g.panels;
    Atomics.store(ctl, NEXT, 0);
    Atomics.store(ctl, DONE, 0);
    Atomics.add(ctl, GEN, 1);
    Atomics.notify(ctl, GEN);
    const acc = g.accumulate ? 1 : 0;
    for (let i = Atomics.add(ctl, NEXT, 1); i < chunks; i = Atomics.add(ctl, NEXT, 1)) {
      const q0 = i * per;
      kernels.gemm(g.pa, g.pb, g.c, g.ldc, g.m, g.n, g.k, g.alpha, g.bias, acc, q0, Math.min(g.panels, q0 + per));
    }
    const workers = this.workers.length;
    for (let spin = 0, got = Atomics.load(ctl, DONE); got < workers; got = Atomics.load(ctl, DONE), spin++) {
      if (spin > SPIN) Atomics.wait(ctl, DONE, got, 1000);
    }
    this.pooled++;
  }

  destroy(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.ctl[CHUNKS] = -1;
    Atomics.add(this.ctl, GEN, 1);
    Atomics.notify(this.ctl, GEN);
    for (const w of this.workers) w.terminate();
  }
}
