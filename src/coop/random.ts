/**
 * Seeded randomness for everything CoOp draws: context init, per-epoch sampling, augmentation.
 *
 * mulberry32 (32-bit state, passes the usual small-state tests, tiny and fast in JS) gives uniforms in [0, 1);
 * Box–Muller turns pairs of them into standard normals. The numbers cannot match torch.randn or numpy's
 * generators, so runs are reproducible within the browser, not bit-identical to tools/toy-clip.
 *
 * Streams are derived from (seed, purpose, index) by hashing rather than by consuming one shared generator, so
 * that e.g. epoch 37's sampling does not depend on how many numbers epochs 0..36 used: resuming a stopped run, or
 * re-making views for one image, gives the same draws as an uninterrupted run.
 */

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number;
  /** Integer uniform in [0, n). */
  int(n: number): number;
  /** Standard normal. */
  normal(): number;
}

/** murmur3's 32-bit finalizer: spreads nearby seeds (1, 2, 3, ...) to unrelated states. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** One 32-bit seed from several integers (seed, purpose tag, epoch, image index, ...). */
export function deriveSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) h = fmix32((h ^ fmix32(p >>> 0)) + 0x6d2b79f5);
  return h;
}

/** Purpose tags for deriveSeed, so the streams for different jobs never coincide. */
export const STREAM = { context: 1, sampler: 2, augment: 3, fewshot: 4, adapterInit: 5, adapterSampler: 6 } as const;

export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  let spare: number | null = null;
  const next = (): number => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    uniform: (lo, hi) => lo + (hi - lo) * next(),
    int: (n) => Math.floor(next() * n),
    normal: () => {
      if (spare !== null) {
        const z = spare;
        spare = null;
        return z;
      }
      // 1 - u keeps the log's argument in (0, 1]; both Box–Muller outputs are used.
      const r = Math.sqrt(-2 * Math.log(1 - next()));
      const theta = 2 * Math.PI * next();
      spare = r * Math.sin(theta);
      return r * Math.cos(theta);
    },
  };
}

/** Fisher–Yates shuffle of 0..n-1. */
export function permutation(n: number, rng: Rng): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}
