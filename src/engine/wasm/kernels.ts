/**
 * The WASM SIMD kernel set (src/engine/ops/kernels.ts CpuKernels): what the CPU engine trains with.
 *
 * Arrays in, arrays out, like the JavaScript twins, so one composition (src/engine/cpu-text-encoder.ts) serves both.
 * Outputs are Float32Array views of the engine's linear memory, allocated from its arena; an input that is already
 * such a view is used in place, any other array is copied in (activations are a few hundred KB; the weights are
 * never copied: `adoptWeights` packs them once). Views live until the next `run` begins: whatever a step returns
 * must be copied out inside it (src/worker/cpu-text-engine.ts does).
 */
import type { AttentionDims, AttentionGrads, AttentionInputs } from '../ops/attention/cpu';
import type { CpuKernels } from '../ops/kernels';
import { LAYER_NORM_EPS } from '../ops/layernorm/cpu';
import type { MatmulShape } from '../ops/matmul/cpu';
import type { Arr } from '../ops/tensor';
import type { TextWeights } from '../model/text-weights';
import { ArenaFull, KernelMemory } from './memory';
import { kernelBuild, PANEL_COLS, PANEL_ROWS, sharedMemorySupported, type KernelExports } from './module';
import { KernelThreads } from './threads';

export interface WasmKernelOptions {
  /** Threads in all (the caller and its workers); 1 (or no shared memory) runs on the calling thread alone. */
  threads?: number;
  /** Web Workers instead of Node's worker_threads (default: when there is no `process`). */
  web?: boolean;
  /** Use relaxed SIMD's FMA where it validates (default true). */
  relaxed?: boolean;
}

/** A weight packed for the micro-kernel: as op(B) of X·W (forward) and of dY·Wᵀ (backward). */
interface PackedWeight {
  /** [in, out] */
  rows: number;
  cols: number;
  forward: number;
  backward: number;
}

const panels = (n: number, size: number) => Math.ceil(n / size);

/** Products smaller than this many multiply-adds stay on the calling thread. */
export const MIN_POOLED_MACS = 1 << 21;

export class WasmKernels implements CpuKernels {
  readonly name = 'wasm';
  /** Keyed by the weight array it was packed from and by its stand-in in adopted weights (weak: no copy kept alive). */
  private readonly packed = new WeakMap<Arr, PackedWeight>();
  /** Small frozen arrays (biases, layer norm parameters) copied in once. */
  private readonly frozen = new WeakMap<Arr, number>();

  private constructor(
    private readonly k: KernelExports,
    readonly mem: KernelMemory,
    private readonly pool: KernelThreads | null,
    /** f32x4.relaxed_madd (fused where the CPU has FMA) in the kernels. */
    readonly relaxed: boolean,
  ) {}

  static async create(opts: WasmKernelOptions = {}): Promise<WasmKernels> {
    const wanted = Math.max(1, Math.floor(opts.threads ?? 1));
    const shared = wanted > 1 && sharedMemorySupported();
    const build = await kernelBuild(shared, opts.relaxed ?? true);
    const mem = new KernelMemory(shared);
    const instance = await WebAssembly.instantiate(build.module, { env: { memory: mem.memory } });
    const web = opts.web ?? typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node !== 'string';
    const pool = shared ? await KernelThreads.start(build.module, mem.memory, wanted - 1, web) : null;
    return new WasmKernels(instance.exports as unknown as KernelExports, mem, pool, build.relaxed);
  }

  /** Threads a product runs on. */
  get threads(): number {
    return this.pool?.threads ?? 1;
  }

  /**
   * Bytes of activations a step may hold before its classes run in chunks (src/engine/cpu-text-encoder.ts): 1 GiB of
   * WebAssembly's 4, leaving room for the weights (ViT-L/14's text tower packs to 0.7 GB) and the loss.
   */
  activationBudget = 1 << 30;

  mark = (): number => this.mem.mark();

  release = (mark: number): void => this.mem.release(mark);

  /** Products split over threads so far. */
  get pooled(): number {
    return this.pool?.pooled ?? 0;
  }

  /**
   * Packs every linear weight of `w` (both orientations) and copies its biases and layer norm parameters into the
   * engine's memory, once. Returns the weights to compute with: the same, except that each linear weight matrix is
   * an empty stand-in that names its packed copy, so the JavaScript copy of the matrices (152 MB for ViT-B/32's text
   * tower) can be freed once the caller lets go of `w`. Products with either array read the packed copy.
   */
  adoptWeights(w: TextWeights): TextWeights {
    // Between runs: no arena view is live, so the arena can move up past the new weights.
    this.mem.reset();
    const { D, F, E } = w.config;
    const linear = (a: Arr, rows: number, cols: number): Arr => {
      this.packWeight(a, rows, cols);
      const handle = new Float32Array(0);
      this.packed.set(handle, this.packed.get(a)!);
      return handle;
    };
    for (const l of w.layers) {
      for (const a of [l.q.b, l.k.b, l.v.b, l.out.b, l.fc1.b, l.fc2.b, l.ln1.weight, l.ln1.bias, l.ln2.weight, l.ln2.bias]) this.freeze(a);
    }
    this.freeze(w.finalLn.weight);
    this.freeze(w.finalLn.bias);
    return {
      ...w,
      layers: w.layers.map((l) => ({
        ...l,
        q: { w: linear(l.q.w, D, D), b: l.q.b },
        k: { w: linear(l.k.w, D, D), b: l.k.b },
        v: { w: linear(l.v.w, D, D), b: l.v.b },
        out: { w: linear(l.out.w, D, D), b: l.out.b },
        fc1: { w: linear(l.fc1.w, D, F), b: l.fc1.b },
        fc2: { w: linear(l.fc2.w, F, D), b: l.fc2.b },
      })),
      projection: linear(w.projection, D, E),
    };
  }

  private freeze(a: Arr): void {
    if (this.frozen.has(a)) return;
    const at = this.mem.persistent(a.length * 4);
    this.mem.f32(at, a.length).set(a);
    this.frozen.set(a, at);
  }

  /** Packs one [rows, cols] weight (adoptWeights; benchmarks); only between runs. */
  packWeight(a: Arr, rows: number, cols: number): void {
    if (this.packed.has(a)) return;
    this.mem.reset();
    const bytes = (n: number, k: number) => panels(n, PANEL_COLS) * PANEL_COLS * k * 4;
    const forward = this.mem.persistent(bytes(cols, rows));
    const backward = this.mem.persistent(bytes(rows, cols));
    // The plain copy is only the packing's source: it goes in the arena, freed right after.
    const raw = this.mem.alloc(a.length * 4);
    this.mem.f32(raw, a.length).set(a);
    // X·W: op(B) = W [rows=in, cols=out] row-major. dY·Wᵀ: op(B) = Wᵀ, read from W as (rs = 1, cs = cols).
    this.k.packB(raw, cols, 1, rows, cols, forward, 0, panels(cols, PANEL_COLS));
    this.k.packB(raw, 1, cols, cols, rows, backward, 0, panels(rows, PANEL_COLS));
    this.mem.reset();
    this.packed.set(a, { rows, cols, forward, backward });
  }

  /**
   * Runs one step (or any computation) on a fresh arena. On a private memory that must grow, the arena overflow
   * aborts the computation, the memory grows while no view is live, and it runs again: `fn` must be a pure
   * function of its inputs, and must copy out what it returns.
   */
  run<T>(fn: () => T): T {
    for (;;) {
      this.mem.reset();
      try {
        return fn();
      } catch (e) {
        if (!(e instanceof ArenaFull)) throw e;
        this.mem.reset();
        this.mem.reserve(e.needBytes * 2);
      }
    }
  }

  destroy(): void {
    this.pool?.destroy();
  }

  // ---- memory ----

  /** The address of x's first element: in place when x is a view of ours, else a copy in the arena. */
  private ptr(x: ArrayLike<number> & ArrayBufferView, length = x.length): number {
    if (x instanceof Float32Array && this.mem.owns(x)) return x.byteOffset;
    const known = this.frozen.get(x as Arr);
    if (known !== undefined) return known;
    const at = this.mem.alloc(length * 4);
    const view = this.mem.f32(at, length);
    view.set(x.length === length ? x : Array.prototype.slice.call(x, 0, length));
    return at;
  }

  // ---- kernels ----

  matmul = (a: Arr, b: Arr, s: MatmulShape, bias?: Arr, into?: Arr): Arr => {
    const { m, n, k } = s;
    const batch = s.batch ?? 1;
    if (batch !== 1) {
      const sa = s.strideA ?? m * k;
      const sb = s.strideB ?? k * n;
      const sc = s.strideC ?? m * n;
      const c = into ?? new Float32Array((batch - 1) * sc + m * n);
      for (let z = 0; z < batch; z++) {
        const cz = c.subarray(z * sc, z * sc + m * n);
        const r = this.matmul(a.subarray(z * sa, z * sa + m * k), b.subarray(z * sb, z * sb + k * n), { ...s, batch: 1 }, bias, into ? cz : undefined);
        if (!into) cz.set(r);
      }
      return c;
    }
    const pa = this.mem.alloc(panels(m, PANEL_ROWS) * PANEL_ROWS * k * 4);
    const aAt = this.ptr(a, m * k);
    if (s.transA) this.k.packA(aAt, 1, m, m, k, pa);
    else this.k.packA(aAt, k, 1, m, k, pa);
    const nPanels = panels(n, PANEL_COLS);
    const w = this.packed.get(b);
    let pb: number;
    if (w && !s.transB && w.rows === k && w.cols === n) pb = w.forward;
    else if (w && s.transB && w.rows === n && w.cols === k) pb = w.backward;
    else {
      // An adopted weight's stand-in used with a shape it was not packed for would read nothing: say so.
      if (b.length < k * n) throw new Error(`WASM matmul: B has ${b.length} values, the product needs ${k}×${n}${w ? ` (a packed [${w.rows}, ${w.cols}] weight used as ${s.transB ? 'transposed ' : ''}[${k}, ${n}])` : ''}`);
      pb = this.mem.alloc(nPanels * PANEL_COLS * k * 4);
      const bAt = this.ptr(b, k * n);
      if (s.transB) this.k.packB(bAt, 1, k, k, n, pb, 0, nPanels);
      else this.k.packB(bAt, n, 1, k, n, pb, 0, nPanels);
    }
    const biasAt = bias ? this.ptr(bias, n) : 0;
    let c: number;
    let result: Float32Array;
    const inPlace = into instanceof Float32Array && this.mem.owns(into);
    if (inPlace) {
      c = into.byteOffset;
      result = into;
    } else {
      c = into ? this.ptr(into, m * n) : this.mem.alloc(m * n * 4);
      result = this.mem.f32(c, m * n);
    }
    const args = { pa, pb, c, ldc: n, m, n, k, alpha: s.alpha ?? 1, bias: biasAt, accumulate: into !== undefined, panels: nPanels };
    // Threads pay off from about two million multiply-adds (~100 µs of work): below that, handing out the chunks and
    // waking the workers cost more than they save (the toy model's 50×128×128 products ran 2.5× slower on two threads).
    if (this.pool && m * n * k >= MIN_POOLED_MACS) this.pool.gemm(this.k, args);
    else this.k.gemm(pa, pb, c, n, m, n, k, args.alpha, biasAt, args.accumulate ? 1 : 0, 0, nPanels);
    if (into && !inPlace) {
      into.set(result);
      return into;
    }
    return result;
  };

  layerNormForward = (x: Arr, gamma: Arr, beta: Arr, rows: number, d: number, eps = LAYER_NORM_EPS): { y: Arr; mean: Arr; rstd: Arr } => {
    const xAt = this.ptr(x, rows * d);
    const y = this.mem.alloc(rows * d * 4);
    const mean = this.mem.alloc(rows * 4);
    const rstd = this.mem.alloc(rows * 4);
    this.k.layerNormForward(xAt, this.ptr(gamma, d), this.ptr(beta, d), rows, d, eps, y, mean, rstd);
    return { y: this.mem.f32(y, rows * d), mean: this.mem.f32(mean, rows), rstd: this.mem.f32(rstd, rows) };
  };

  layerNormBackward = (dy: Arr, x: Arr, gamma: Arr, mean: Arr, rstd: Arr, rows: number, d: number): Arr => {
    const dx = this.mem.alloc(rows * d * 4);
    this.k.layerNormBackward(this.ptr(dy, rows * d), this.ptr(x, rows * d), this.ptr(gamma, d), this.ptr(mean, rows), this.ptr(rstd, rows), rows, d, dx, 0);
    return this.mem.f32(dx, rows * d);
  };

  attentionForward = (x: AttentionInputs, dims: AttentionDims): Arr => {
    const { b, t, p, h, dh } = dims;
    const len = b * t * h * dh;
    const q = this.ptr(x.q, len);
    const k = this.ptr(x.k, len);
    const v = this.ptr(x.v, len);
    const kp = p > 0 ? this.ptr(x.kp!, p * h * dh) : 0;
    const vp = p > 0 ? this.ptr(x.vp!, p * h * dh) : 0;
    const o = this.mem.alloc(len * 4);
    const scratch = this.mem.alloc((p + t) * 4);
    this.k.attentionForward(q, k, v, kp, vp, o, 0, b, t, p, h, dh, scratch);
    return this.mem.f32(o, len);
  };

  attentionBackward = (x: AttentionInputs, o: Arr, dO: Arr, dims: AttentionDims): AttentionGrads => {
    const { b, t, p, h, dh } = dims;
    const len = b * t * h * dh;
    const plen = p * h * dh;
    const q = this.ptr(x.q, len);
    const k = this.ptr(x.k, len);
    const v = this.ptr(x.v, len);
    const kp = p > 0 ? this.ptr(x.kp!, plen) : 0;
    const vp = p > 0 ? this.ptr(x.vp!, plen) : 0;
    const oAt = this.ptr(o, len);
    const dOAt = this.ptr(dO, len);
    const dq = this.mem.alloc(len * 4);
    const dk = this.mem.alloc(len * 4);
    const dv = this.mem.alloc(len * 4);
    const dkp = this.mem.alloc(plen * 4);
    const dvp = this.mem.alloc(plen * 4);
    const dkpView = this.mem.f32(dkp, plen);
    const dvpView = this.mem.f32(dvp, plen);
    dkpView.fill(0);
    dvpView.fill(0);
    const scratch = this.mem.alloc((p + t) * 4);
    this.k.attentionBackward(q, k, v, kp, vp, oAt, dOAt, dq, dk, dv, dkp, dvp, 0, b, t, p, h, dh, scratch);
    return { dq: this.mem.f32(dq, len), dk: this.mem.f32(dk, len), dv: this.mem.f32(dv, len), dkp: dkpView, dvp: dvpView };
  };

  quickGeluForward = (x: Arr): Arr => {
    const y = this.mem.alloc(x.length * 4);
    this.k.quickGeluForward(this.ptr(x), y, x.length);
    return this.mem.f32(y, x.length);
  };

  quickGeluBackward = (dy: Arr, x: Arr): Arr => {
    const dx = this.mem.alloc(x.length * 4);
    this.k.quickGeluBackward(this.ptr(dy, x.length), this.ptr(x), dx, x.length);
    return this.mem.f32(dx, x.length);
  };

  add = (a: Arr, b: Arr): Arr => {
    const out = this.mem.alloc(a.length * 4);
    this.k.add(this.ptr(a), this.ptr(b, a.length), out, a.length);
    return this.mem.f32(out, a.length);
  };

  addInPlace = (a: Arr, b: Arr): Arr => {
    if (a instanceof Float32Array && this.mem.owns(a)) {
      this.k.add(a.byteOffset, this.ptr(b, a.length), a.byteOffset, a.length);
      return a;
    }
    for (let i = 0; i < a.length; i++) a[i] += b[i];
    return a;
  };
}
