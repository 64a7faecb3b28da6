/**
 * Which build of the WASM SIMD kernels this runtime can run, and its compiled module (compiled once per variant).
 * The kernels come in four builds (src/engine/wasm/build.mjs): plain SIMD128 or relaxed SIMD (a fused multiply-add
 * where the CPU has one), each for a shared memory (threads) or a private one. Feature detection is by validating
 * the build itself, so what is checked is exactly what will run.
 */
import * as builds from './kernels.generated';

export interface KernelBuild {
  module: WebAssembly.Module;
  /** f32x4.relaxed_madd in the micro-kernels. */
  relaxed: boolean;
  /** Imports a shared memory: workers can run on it. */
  shared: boolean;
}

function decode(base64: string): Uint8Array<ArrayBuffer> {
  const s = atob(base64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

const bytes = new Map<string, Uint8Array<ArrayBuffer>>();
function build(name: keyof typeof builds): Uint8Array<ArrayBuffer> {
  let b = bytes.get(name);
  if (!b) bytes.set(name, (b = decode(builds[name])));
  return b;
}

/** WebAssembly with SIMD128: without it there is no WASM engine (the JavaScript reference trains instead). */
export function simdSupported(): boolean {
  return typeof WebAssembly === 'object' && WebAssembly.validate(build('simd'));
}

/** Relaxed SIMD (Chrome ≥ 114, Node ≥ 22; Node 20 only behind --experimental-wasm-relaxed-simd). */
export function relaxedSimdSupported(): boolean {
  return typeof WebAssembly === 'object' && WebAssembly.validate(build('relaxed'));
}

/**
 * A shared WebAssembly.Memory can be made here: Node, or a cross-origin isolated page and its workers. Without it
 * the kernels run on the calling thread alone.
 */
export function sharedMemorySupported(): boolean {
  if (typeof SharedArrayBuffer === 'undefined') return false;
  try {
    return new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

const compiled = new Map<string, Promise<WebAssembly.Module>>();

/** The best build for `shared` memory (relaxed SIMD where it validates unless `relaxed: false`), compiled. */
export async function kernelBuild(shared: boolean, relaxed = relaxedSimdSupported()): Promise<KernelBuild> {
  if (!simdSupported()) throw new Error('this runtime has no WebAssembly SIMD (needed by the WASM CPU engine): use a current browser, or ?engine=reference');
  const useRelaxed = relaxed && relaxedSimdSupported();
  const name = `${useRelaxed ? 'relaxed' : 'simd'}${shared ? 'Shared' : ''}` as keyof typeof builds;
  let m = compiled.get(name);
  if (!m) compiled.set(name, (m = WebAssembly.compile(build(name))));
  return { module: await m, relaxed: useRelaxed, shared };
}

/** The exports of assembly/kernels.ts: addresses are byte offsets into the memory, counts are elements. */
export interface KernelExports {
  packA(a: number, rs: number, cs: number, m: number, k: number, dst: number): void;
  packB(b: number, rs: number, cs: number, k: number, n: number, dst: number, q0: number, q1: number): void;
  gemm(pa: number, pb: number, c: number, ldc: number, m: number, n: number, k: number, alpha: number, bias: number, accumulate: number, q0: number, q1: number): void;
  layerNormForward(x: number, gamma: number, beta: number, rows: number, d: number, eps: number, y: number, mean: number, rstd: number): void;
  layerNormBackward(dy: number, x: number, gamma: number, mean: number, rstd: number, rows: number, d: number, dx: number, accumulate: number): void;
  quickGeluForward(x: number, y: number, len: number): void;
  quickGeluBackward(dy: number, x: number, dx: number, len: number): void;
  add(a: number, b: number, out: number, len: number): void;
  attentionForward(q: number, k: number, v: number, kp: number, vp: number, o: number, b0: number, b1: number, t: number, p: number, h: number, dh: number, s: number): void;
  attentionBackward(q: number, k: number, v: number, kp: number, vp: number, o: number, dO: number, dq: number, dk: number, dv: number, dkp: number, dvp: number, b0: number, b1: number, t: number, p: number, h: number, dh: number, s: number): void;
}

/** Rows of a packed A panel and columns of a packed B panel (assembly/kernels.ts MR, NR). */
export const PANEL_ROWS = 6;
export const PANEL_COLS = 8;
