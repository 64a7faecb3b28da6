/**
 * The text-tower shapes the benchmark runs: the bundled toy model's real weights, and two
 * random-weight towers of CLIP's layout. Speed does not depend on the values, only on the
 * shapes, so random weights stand in for checkpoints we cannot download here.
 */
import type { TextConfig, TextLayerWeights, TextWeights } from '../../src/engine/model/text-weights';
import type { ModelShape } from '../../src/engine/plan';
import type { ShapeName } from './types';

export const CONTEXT_LENGTH = 77;

/** Images per step: CoOp's default batch size. */
export const BATCH = 32;

const RANDOM_SHAPES: Record<Exclude<ShapeName, 'toy'>, TextConfig> = {
  // Vocabulary as in real CLIP so the embedding table has its real size.
  small: { D: 256, L: 4, H: 4, V: 49408, E: 256, F: 1024, P: CONTEXT_LENGTH, eps: 1e-5 },
  'vit-b32': { D: 512, L: 12, H: 8, V: 49408, E: 512, F: 2048, P: CONTEXT_LENGTH, eps: 1e-5 },
};

export function randomShapeConfig(name: Exclude<ShapeName, 'toy'>): TextConfig {
  return { ...RANDOM_SHAPES[name] };
}

export function modelShape(cfg: TextConfig): ModelShape {
  return { D: cfg.D, L: cfg.L, H: cfg.H, V: cfg.V, E: cfg.E, P: cfg.P, F: cfg.F };
}

/** mulberry32: tiny, seedable, and the same in every JS engine. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Uniform values with standard deviation `std`: the scale keeps activations in range
 * (NaNs would not change the timing, but would hide a broken step), and uniform draws
 * keep building vit-b32's 60 M floats to about a second.
 */
function uniform(n: number, std: number, next: () => number): Float32Array {
  const a = std * Math.sqrt(3);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (2 * next() - 1) * a;
  return out;
}

function filled(n: number, v: number): Float32Array {
  return new Float32Array(n).fill(v);
}

export function randomTextWeights(cfg: TextConfig, seed = 1): TextWeights {
  const next = rng(seed);
  const { D, F, V, E, P, L } = cfg;
  const lin = (inDim: number, outDim: number) => ({ w: uniform(inDim * outDim, 1 / Math.sqrt(inDim), next), b: uniform(outDim, 0.01, next) });
  const ln = () => ({ weight: filled(D, 1), bias: filled(D, 0) });
  const layers: TextLayerWeights[] = [];
  for (let l = 0; l < L; l++) {
    layers.push({ ln1: ln(), q: lin(D, D), k: lin(D, D), v: lin(D, D), out: lin(D, D), ln2: ln(), fc1: lin(D, F), fc2: lin(F, D) });
  }
  return {
    config: cfg,
    tokenEmbedding: uniform(V * D, 0.02, next),
    positionEmbedding: uniform(P * D, 0.01, next),
    layers,
    finalLn: ln(),
    projection: uniform(D * E, 1 / Math.sqrt(D), next),
  };
}

/** Name lengths cycle through 1, 2, 3 tokens: CLIP's BPE gives most class names one to three tokens. */
export function syntheticNameLength(k: number): number {
  return 1 + (k % 3);
}

/**
 * Token ids of "X X … X {name}." per class, padded to 77, in CLIP's scheme: EOS is the
 * largest id (vocab − 1), SOS the one below it; name tokens are arbitrary ordinary ids.
 */
export function syntheticTokenIds(vocab: number, K: number, M: number): { tokenIds: Int32Array[]; nameLens: Int32Array } {
  const eos = vocab - 1;
  const sos = vocab - 2;
  const x = 1;
  const dot = 2;
  const tokenIds: Int32Array[] = [];
  const nameLens = new Int32Array(K);
  for (let k = 0; k < K; k++) {
    const n = syntheticNameLength(k);
    nameLens[k] = n;
    const ids = new Int32Array(CONTEXT_LENGTH);
    let t = 0;
    ids[t++] = sos;
    for (let j = 0; j < M; j++) ids[t++] = x;
    for (let j = 0; j < n; j++) ids[t++] = 3 + ((k * 7 + j * 13) % (vocab - 6));
    ids[t++] = dot;
    ids[t++] = eos;
    tokenIds.push(ids);
  }
  return { tokenIds, nameLens };
}
