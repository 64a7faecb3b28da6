/**
 * The WASM engine's linear memory: frozen weights (packed once) at the bottom, then an arena that every step's
 * activations are bump-allocated from and that is reset when the next step begins.
 *
 * A shared memory grows in place (views made before stay valid), so the arena simply grows when a step needs more.
 * A private memory's buffer is replaced when it grows, which would invalidate every view of the step in progress,
 * so there an allocation that does not fit throws `ArenaFull` and the step is run again on the grown memory
 * (src/engine/wasm/kernels.ts `run`): steps are pure functions of their inputs.
 */
const PAGE = 65536;
/** Addresses below this are AssemblyScript's static data (its math tables); ours start here. */
const HEAP_BASE = PAGE;
/** 64-byte alignment: one cache line, and every v128 access aligned. */
const ALIGN = 64;

export class ArenaFull extends Error {
  constructor(readonly needBytes: number) {
    super(`the WASM engine's memory needs ${needBytes} bytes`);
  }
}

export class KernelMemory {
  readonly memory: WebAssembly.Memory;
  /** End of the persistent region (weights); the arena starts here. */
  private base = HEAP_BASE;
  private top = HEAP_BASE;
  /** Every buffer object this memory has had: a shared memory hands out a new one after each growth. */
  private readonly buffers = new WeakSet<ArrayBufferLike>();
  private peak = 0;

  constructor(readonly shared: boolean, initialBytes = 16 << 20) {
    const initial = Math.ceil(Math.max(initialBytes, 2 * PAGE) / PAGE);
    this.memory = new WebAssembly.Memory({ initial, maximum: 65536, ...(shared ? { shared: true } : {}) });
    this.buffers.add(this.memory.buffer);
  }

  /** Highest arena use seen, in bytes (with the weights below it). */
  get peakBytes(): number {
    return this.peak;
  }

  /** Whether `x` is a view of this memory (then its byteOffset is its address). */
  owns(x: ArrayBufferView): boolean {
    return this.buffers.has(x.buffer);
  }

  private ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    if (!this.shared && this.top !== this.base) throw new ArenaFull(end);
    // Grow by at least half again, so a run settles after a few growths.
    const want = Math.max(end, Math.floor(have * 1.5));
    const pages = Math.ceil((want - have) / PAGE);
    try {
      this.memory.grow(pages);
    } catch {
      throw new Error(`the WASM engine needs ${Math.ceil(end / 2 ** 20)} MiB of memory and could not get it (at most 4 GiB): use fewer classes or a smaller model`);
    }
    this.buffers.add(this.memory.buffer);
  }

  private bump(bytes: number): number {
    const at = Math.ceil(this.top / ALIGN) * ALIGN;
    const end = at + Math.max(bytes, 4);
    this.ensure(end);
    this.top = end;
    this.peak = Math.max(this.peak, end);
    return at;
  }

  /** Bytes that live as long as the engine (packed weights). Only between steps. */
  persistent(bytes: number): number {
    if (this.top !== this.base) throw new Error('persistent allocations go before the arena is used');
    const at = this.bump(bytes);
    this.base = this.top;
    return at;
  }

  /** Bytes for the step in progress; contents are whatever an earlier step left (not zeroed). */
  alloc(bytes: number): number {
    return this.bump(bytes);
  }

  /** The arena's top, to free everything allocated after it with `release` (a chunk of classes). */
  mark(): number {
    return this.top;
  }

  release(mark: number): void {
    if (mark < this.base || mark > this.top) throw new Error(`arena release to ${mark}: outside ${this.base}..${this.top}`);
    this.top = mark;
  }

  /** Frees every arena allocation: the next step starts from the weights. Earlier arena views become garbage. */
  reset(): void {
    this.top = this.base;
  }

  /** Makes room for `bytes` of arena before a step (a private memory then grows while no view of it is live). */
  reserve(bytes: number): void {
    const save = this.top;
    this.top = this.base;
    this.ensure(this.base + bytes);
    this.top = save;
  }

  f32(at: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, at, length);
  }
}
