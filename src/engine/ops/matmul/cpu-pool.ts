/**
 * The CPU twin's matmuls spread over worker threads (issue 14, point 5): where a browser has no usable WebGPU the
 * CPU twin is the engine, and its time is almost all in these products.
 *
 * A product's rows are split in blocks of four (the kernel's own blocking, so every C element is computed with the
 * same arithmetic as on one thread: the result is bitwise the same) over the calling thread and the workers.
 * Operands are copied into SharedArrayBuffers per call (a copy of A and B is 1/n and 1/m of the product's work,
 * and nothing is cached, so a caller that reuses an array can never see stale data); the workers run
 * `matmulRowsCpu` itself, its source shipped to them, and the caller blocks on an Atomics counter until they are
 * done, so `matmulCpu` stays synchronous. Blocking needs a thread that may wait: Node's main thread, or a Web
 * Worker (the app's training worker), never a page's main thread. SharedArrayBuffer needs a cross-origin isolated
 * page (the app is).
 */
import { matmulRowsCpu, setMatmulCpuParallel, type MatmulCpuParallel, type MatmulShape } from './cpu';
import type { Arr } from '../tensor';

/** What the pool needs of a worker: Node's worker_threads Worker and a Web Worker both fit. */
export interface PoolWorker {
  postMessage(message: unknown): void;
  terminate(): unknown;
  /** Settles when the worker has posted 'ready' (its handler is installed), or rejects with its error. */
  ready: Promise<void>;
}

export interface MatmulPool extends MatmulCpuParallel {
  /** Threads a product is spread over: the workers and the calling thread. */
  readonly threads: number;
  /** Products run on the pool so far (others were too small or not Float32). */
  readonly pooled: number;
  /** Every worker started: await it before the first product (a worker that failed to start would block it). */
  readonly ready: Promise<void>;
  destroy(): void;
}

/** The worker's whole program: the kernel's own source and a message handler for either host. */
export function matmulWorkerSource(): string {
  return `
const kernel = (${matmulRowsCpu.toString()});
function onJob(j) {
  kernel(j.a, j.b, j.c, j.m, j.n, j.k, false, j.transB, j.alpha, j.bias, j.accumulate, 0, 0, 0, j.i0, j.i1);
  Atomics.add(j.done, 0, 1);
  Atomics.notify(j.done, 0);
}
if (typeof require === 'function') {
  const port = require('node:worker_threads').parentPort;
  port.on('message', onJob);
  port.postMessage('ready');
} else {
  self.onmessage = (e) => onJob(e.data);
  self.postMessage('ready');
}
`;
}

function sharedCopy(x: ArrayLike<number>, length: number): Float32Array {
  const out = new Float32Array(new SharedArrayBuffer(Math.max(4, length * 4)));
  out.set(x.length === length ? x : Array.prototype.slice.call(x, 0, length));
  return out;
}

/**
 * A pool over `workers` threads made by `spawn(source)`. Products below `minFlops` (multiply-adds × 2), batched
 * ones, transposed-A ones and Float64 ones (the finite-difference tests) stay on the calling thread.
 */
export function createMatmulPool(workers: number, spawn: (source: string) => PoolWorker, minFlops = 4e6): MatmulPool {
  const source = matmulWorkerSource();
  const pool = Array.from({ length: workers }, () => spawn(source));
  const done = new Int32Array(new SharedArrayBuffer(4));
  let pooled = 0;
  let started = false;
  // A destroyed pool that is still installed somewhere computes on the calling thread instead of waiting forever on
  // workers that are gone.
  let destroyed = false;
  const ready = Promise.all(pool.map((w) => w.ready)).then(() => {
    started = true;
  });
  const self: MatmulPool = {
    threads: workers + 1,
    ready,
    get pooled() {
      return pooled;
    },
    run(a: Arr, b: Arr, s: MatmulShape, bias: Arr | undefined, into: Arr | undefined): Arr | null {
      const { m, n, k } = s;
      if (!workers || !started || destroyed || !(a instanceof Float32Array) || (s.batch ?? 1) !== 1 || s.transA || 2 * m * n * k < minFlops || m < 8) return null;
      if (into && !(into instanceof Float32Array)) return null;
      // Row blocks of 4: the calling thread takes the first share, each worker one of the rest.
      const per = Math.ceil(m / (workers + 1) / 4) * 4;
      const parts: [number, number][] = [];
      for (let i0 = 0; i0 < m; i0 += per) parts.push([i0, Math.min(m, i0 + per)]);
      const sa = sharedCopy(a, m * k);
      const sb = sharedCopy(b, k * n);
      const sbias = bias ? sharedCopy(bias, n) : undefined;
      const sc = into ? sharedCopy(into, m * n) : new Float32Array(new SharedArrayBuffer(m * n * 4));
      const alpha = s.alpha ?? 1;
      Atomics.store(done, 0, 0);
      for (let w = 1; w < parts.length; w++) {
        const [i0, i1] = parts[w];
        pool[w - 1].postMessage({ a: sa, b: sb, c: sc, m, n, k, transB: !!s.transB, alpha, bias: sbias, accumulate: !!into, i0, i1, done });
      }
      matmulRowsCpu(sa, sb, sc, m, n, k, false, !!s.transB, alpha, sbias, !!into, 0, 0, 0, parts[0][0], parts[0][1]);
      for (let got = Atomics.load(done, 0); got < parts.length - 1; got = Atomics.load(done, 0)) Atomics.wait(done, 0, got);
      pooled++;
      const c = into ?? new Float32Array(m * n);
      c.set(sc.subarray(0, m * n));
      return c;
    },
    destroy() {
      destroyed = true;
      for (const w of pool) w.terminate();
      if (installed === self) {
        setMatmulCpuParallel(null);
        installed = null;
      }
    },
  };
  return self;
}

let installed: MatmulPool | null = null;

/** Installs `pool` as matmulCpu's (replacing any earlier one, which stays usable); null removes it. */
export function installMatmulPool(pool: MatmulPool | null): void {
  installed = pool;
  setMatmulCpuParallel(pool);
}

/** Node: a pool of worker_threads (unref'd, so they never keep the process alive). */
export function nodeMatmulPool(workers: number, minFlops?: number): MatmulPool {
  return createMatmulPool(workers, spawnNodeWorker, minFlops);
}

/** A browser or a Web Worker: Web Workers from a Blob of the same source (needs cross-origin isolation). */
export function webMatmulPool(workers: number, minFlops?: number): MatmulPool {
  return createMatmulPool(workers, spawnWebWorker, minFlops);
}

/**
 * A Node worker_thread running `source` (CommonJS; it posts a first message when its handler is installed). Unref'd,
 * so it never keeps the process alive. Shared by the CPU engines' pools (this one and src/engine/wasm/threads.ts).
 */
export function spawnNodeWorker(source: string): PoolWorker & { on(event: 'message', f: (m: unknown) => void): unknown } {
  const getBuiltin = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
  if (!getBuiltin) throw new Error('worker threads need Node ≥ 20.16 (process.getBuiltinModule)');
  const { Worker } = getBuiltin('node:worker_threads') as typeof import('node:worker_threads');
  // No inherited execArgv: a test runner's loader flags (vitest's forks) would apply to the worker too.
  const w = new Worker(source, { eval: true, execArgv: [] });
  w.unref();
  const ready = new Promise<void>((resolve, reject) => {
    w.once('message', () => resolve());
    w.once('error', reject);
    w.once('exit', (code) => reject(new Error(`CPU worker exited (${code}) before it started`)));
  });
  return Object.assign(w, { ready });
}

const blobUrls = new Map<string, string>();

/** A Web Worker running `source` from a Blob (one URL per distinct source). */
export function spawnWebWorker(source: string): PoolWorker & { addEventListener(type: 'message', f: (e: MessageEvent) => void): void } {
  let url = blobUrls.get(source);
  if (!url) blobUrls.set(source, (url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }))));
  const w = new Worker(url);
  const ready = new Promise<void>((resolve, reject) => {
    w.addEventListener('message', () => resolve(), { once: true });
    w.addEventListener('error', (e) => reject(new Error(`CPU worker: ${e.message}`)), { once: true });
  });
  return Object.assign(w, { ready });
}
