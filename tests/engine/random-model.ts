/** Small random CLIP text towers (Float64 for finite differences) and prompts for them. */
import type { TextConfig, TextWeights, Linear } from '../../src/engine/model/text-weights';
import type { ClassTokenPosition, PromptSpec } from '../../src/engine/prompt';
import { randn, rng } from '../helpers/random';

export function randomTextWeights(cfg: TextConfig, seed = 1, f32 = false): TextWeights {
  let s = seed * 1000;
  const arr = (n: number, scale: number, mean = 0) => {
    const a = randn(n, s++, scale);
    if (mean) for (let i = 0; i < n; i++) a[i] += mean;
    return f32 ? Float32Array.from(a) : a;
  };
  const { D, L, V, E, F, P } = cfg;
  const lin = (i: number, o: number): Linear => ({ w: arr(i * o, 1 / Math.sqrt(i)), b: arr(o, 0.1) });
  return {
    config: cfg,
    tokenEmbedding: arr(V * D, 0.5),
    positionEmbedding: arr(P * D, 0.2),
    layers: Array.from({ length: L }, () => ({
      ln1: { weight: arr(D, 0.2, 1), bias: arr(D, 0.1) },
      q: lin(D, D),
      k: lin(D, D),
      v: lin(D, D),
      out: lin(D, D),
      ln2: { weight: arr(D, 0.2, 1), bias: arr(D, 0.1) },
      fc1: lin(D, F),
      fc2: lin(F, D),
    })),
    finalLn: { weight: arr(D, 0.2, 1), bias: arr(D, 0.1) },
    projection: arr(D * E, 1 / Math.sqrt(D)),
  };
}

/** Prompts "X…X name." with SOS = V−2, EOS = V−1, X = 1, '.' = 2, names of 1..3 random tokens. */
export function randomPrompts(cfg: TextConfig, K: number, M: number, csc: boolean, position: ClassTokenPosition, seed = 7): PromptSpec {
  const r = rng(seed);
  const tokenIds: Int32Array[] = [];
  const nameLens: number[] = [];
  for (let k = 0; k < K; k++) {
    const nl = 1 + Math.floor(r() * 3);
    const ids = new Int32Array(cfg.P);
    ids[0] = cfg.V - 2;
    for (let j = 0; j < M; j++) ids[1 + j] = 1;
    for (let j = 0; j < nl; j++) ids[1 + M + j] = 3 + Math.floor(r() * (cfg.V - 5));
    ids[1 + M + nl] = 2;
    ids[2 + M + nl] = cfg.V - 1;
    tokenIds.push(ids);
    nameLens.push(nl);
  }
  return { tokenIds, nameLens, nCtx: M, csc, position };
}

export function randomImages(N: number, E: number, K: number, seed = 11): { imageFeatures: Float64Array; labels: Int32Array } {
  const img = randn(N * E, seed);
  for (let n = 0; n < N; n++) {
    let s = 0;
    for (let e = 0; e < E; e++) s += img[n * E + e] ** 2;
    for (let e = 0; e < E; e++) img[n * E + e] /= Math.sqrt(s);
  }
  const labels = Int32Array.from({ length: N }, (_, n) => n % K);
  return { imageFeatures: img, labels };
}
