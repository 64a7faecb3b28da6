/**
 * A stand-in for the engines' tower step (src/engine/tower.ts), small enough to differentiate by hand, for testing
 * the host-side math of the methods that put prompts inside the tower. Row r (class k = r mod K) has the feature
 *
 *   y_r = A · vec(ctx_r) + Σ_i B_{block_i} · vec(deep_i(r)) + c_k,   t_r = y_r / |y_r|,
 *
 * ctx_r the row's context (shared, its class's under CSC, or its own with ctxPerRow), deep_i(r) the shared or the
 * row's tokens. Float64 inside, and the feature loss is handed the Float64 features; the step's gradients are the
 * exact ones of this map. Every call is recorded.
 */
import type { TowerStepFn, TowerStepInput } from '../../src/engine/tower';
import { randn } from '../helpers/random';

export interface FakeTower {
  step: TowerStepFn;
  calls: TowerStepInput[];
}

export function fakeTower({ K, M, D, E, L, seed = 1 }: { K: number; M: number; D: number; E: number; L: number; seed?: number }): FakeTower {
  const A = randn(E * M * D, seed, 1 / Math.sqrt(M * D));
  const Bs = Array.from({ length: L }, (_, b) => randn(E * M * D, seed + 10 + b, 1 / Math.sqrt(M * D)));
  const c = randn(K * E, seed + 99, 0.3);
  const calls: TowerStepInput[] = [];
  const MD = M * D;
  const step: TowerStepFn = async (input) => {
    calls.push(input);
    const repeat = input.repeat ?? 1;
    const R = repeat * K;
    const ctxAt = (r: number) => (input.ctxPerRow ? r : input.csc ? r % K : 0) * MD;
    const deep = input.deep ?? [];
    const deepAt = (i: number, r: number) => (deep[i].perRow ? r : 0) * MD;
    for (const d of deep) if (d.tokens.length !== (d.perRow ? R : 1) * MD) throw new Error('fake tower: deep tokens must be [M, D] or [R, M, D]');
    const y = new Float64Array(R * E);
    for (let r = 0; r < R; r++) {
      for (let e = 0; e < E; e++) {
        let s = c[(r % K) * E + e];
        for (let j = 0; j < MD; j++) s += A[e * MD + j] * input.ctx[ctxAt(r) + j];
        deep.forEach((d, i) => {
          const W = Bs[d.block];
          for (let j = 0; j < MD; j++) s += W[e * MD + j] * d.tokens[deepAt(i, r) + j];
        });
        y[r * E + e] = s;
      }
    }
    const norms = new Float64Array(R);
    const txt64 = new Float64Array(R * E);
    for (let r = 0; r < R; r++) {
      let ss = 0;
      for (let e = 0; e < E; e++) ss += y[r * E + e] ** 2;
      norms[r] = Math.sqrt(ss);
      for (let e = 0; e < E; e++) txt64[r * E + e] = y[r * E + e] / norms[r];
    }
    const txt = Float32Array.from(txt64);
    if (!input.featureLoss) return { loss: 0, textFeatures: txt };
    // The loss sees the Float64 features (a test-only liberty: the methods read them as ArrayLike), so that central
    // differences are not swamped by Float32 rounding.
    const { loss, dTxt, logits } = input.featureLoss(txt64 as unknown as Float32Array);
    const gradCtx = new Float64Array(input.ctx.length);
    const gradDeep = deep.map((d) => new Float64Array(d.tokens.length));
    for (let r = 0; r < R; r++) {
      // Back through the normalization: dy = (dt − (dt·t) t) / |y|.
      let dot = 0;
      for (let e = 0; e < E; e++) dot += dTxt[r * E + e] * (y[r * E + e] / norms[r]);
      for (let e = 0; e < E; e++) {
        const dy = (dTxt[r * E + e] - dot * (y[r * E + e] / norms[r])) / norms[r];
        for (let j = 0; j < MD; j++) gradCtx[ctxAt(r) + j] += A[e * MD + j] * dy;
        deep.forEach((d, i) => {
          const W = Bs[d.block];
          for (let j = 0; j < MD; j++) gradDeep[i][deepAt(i, r) + j] += W[e * MD + j] * dy;
        });
      }
    }
    return { loss, logits, textFeatures: txt, gradCtx: Float32Array.from(gradCtx), gradDeep: gradDeep.map((g) => Float32Array.from(g)) };
  };
  return { step, calls };
}

/** Central differences of an async scalar function of Float32 parameters, with the step actually taken after rounding. */
export async function fdGrad(x: Float32Array, f: () => Promise<number>, h = 1e-3, which?: number[]): Promise<Float64Array> {
  const out = new Float64Array(x.length);
  for (const i of which ?? x.keys()) {
    const keep = x[i];
    x[i] = keep + h;
    const up = x[i];
    const lp = await f();
    x[i] = keep - h;
    const down = x[i];
    const lm = await f();
    x[i] = keep;
    out[i] = (lp - lm) / (up - down);
  }
  return out;
}
