/**
 * A small differentiable stand-in for the text tower (engine/tower.ts TowerStepFn), in doubles, so the successors'
 * host math (TCP's MLP, DePT's heads) can be checked by finite differences through a whole step before the real
 * engines are wired. Row k (one per class; repeat 1) is
 *
 *   h₁ = tanh(ctx + C_k)            [M, D]   (ctx shared or per class)
 *   s  = Σ_m h₁[m]                   [D]      (what earlier blocks carried to other positions)
 *   h₂ = h₁ with rows m < M' replaced by the deep tokens T_k [M', D] (the replacement: no gradient to h₁ there)
 *   raw_k = A · vec(tanh(h₂)) + A₂ · s        [E]
 *
 * and the features are raw_k / ‖raw_k‖. The backward is exact, like the engines' contract: the feature loss's
 * gradient on the normalized features goes through the normalization, the context gets the sum over rows when
 * shared, the tokens get theirs per row.
 */
import type { TowerStepFn, TowerStepInput, TowerStepResult } from '../../src/engine/tower';
import { randn } from '../helpers/random';

export interface FakeTowerShape {
  K: number;
  M: number;
  D: number;
  E: number;
  seed?: number;
}

export function fakeTower({ K, M, D, E, seed = 3 }: FakeTowerShape): TowerStepFn & { calls: TowerStepInput[] } {
  const C = randn(K * M * D, seed, 0.5);
  const A = randn(E * M * D, seed + 1, 0.4);
  const A2 = randn(E * D, seed + 2, 0.3);
  const calls: TowerStepInput[] = [];
  const fn = async (input: TowerStepInput): Promise<TowerStepResult> => {
    calls.push(input);
    if ((input.repeat ?? 1) !== 1 || input.ctxPerRow) throw new Error('fake tower: one row per class only');
    const csc = !!input.csc;
    if (input.ctx.length !== (csc ? K : 1) * M * D) throw new Error(`fake tower: ctx of ${input.ctx.length} values`);
    const deep = input.deep ?? [];
    if (deep.length > 1 || deep.some((d) => !d.perRow)) throw new Error('fake tower: at most one per-row deep entry');
    const tokens = deep[0]?.tokens;
    const Md = tokens ? tokens.length / (K * D) : 0;
    if (!Number.isInteger(Md) || Md > M) throw new Error(`fake tower: ${tokens?.length} token values`);
    const h1 = new Float64Array(K * M * D);
    const h2 = new Float64Array(K * M * D);
    const raw = new Float64Array(K * E);
    for (let k = 0; k < K; k++) {
      const s = new Float64Array(D);
      for (let m = 0; m < M; m++)
        for (let d = 0; d < D; d++) {
          const c = csc ? input.ctx[(k * M + m) * D + d] : input.ctx[m * D + d];
          const v = Math.tanh(c + C[(k * M + m) * D + d]);
          h1[(k * M + m) * D + d] = v;
          s[d] += v;
          h2[(k * M + m) * D + d] = m < Md ? tokens![(k * Md + m) * D + d] : v;
        }
      for (let e = 0; e < E; e++) {
        let r = 0;
        for (let j = 0; j < M * D; j++) r += A[e * M * D + j] * Math.tanh(h2[k * M * D + j]);
        for (let d = 0; d < D; d++) r += A2[e * D + d] * s[d];
        raw[k * E + e] = r;
      }
    }
    const norms = new Float64Array(K);
    const txt = new Float32Array(K * E);
    const t64 = new Float64Array(K * E);
    for (let k = 0; k < K; k++) {
      let ss = 0;
      for (let e = 0; e < E; e++) ss += raw[k * E + e] ** 2;
      norms[k] = Math.sqrt(ss);
      for (let e = 0; e < E; e++) t64[k * E + e] = raw[k * E + e] / norms[k];
    }
    txt.set(t64);
    if (!input.featureLoss) return { loss: 0, textFeatures: txt };
    // The host loss sees the features in doubles here (a Float32Array view would round them), so finite
    // differences stay exact to ~1e-10.
    const fl = input.featureLoss(t64 as unknown as Float32Array);
    const gradCtx = new Float32Array(input.ctx.length);
    const gCtx = new Float64Array(input.ctx.length);
    const gTok = new Float64Array(tokens ? tokens.length : 0);
    for (let k = 0; k < K; k++) {
      let dot = 0;
      for (let e = 0; e < E; e++) dot += t64[k * E + e] * fl.dTxt[k * E + e];
      const dRaw = new Float64Array(E);
      for (let e = 0; e < E; e++) dRaw[e] = (fl.dTxt[k * E + e] - t64[k * E + e] * dot) / norms[k];
      const ds = new Float64Array(D);
      for (let d = 0; d < D; d++) for (let e = 0; e < E; e++) ds[d] += A2[e * D + d] * dRaw[e];
      for (let m = 0; m < M; m++)
        for (let d = 0; d < D; d++) {
          const j = m * D + d;
          let dh2 = 0;
          const th = Math.tanh(h2[k * M * D + j]);
          for (let e = 0; e < E; e++) dh2 += A[e * M * D + j] * dRaw[e];
          dh2 *= 1 - th * th;
          let dh1 = ds[d];
          if (m < Md) gTok[(k * Md + m) * D + d] += dh2;
          else dh1 += dh2;
          const v = h1[k * M * D + j];
          const dz = dh1 * (1 - v * v);
          gCtx[csc ? k * M * D + j : j] += dz;
        }
    }
    gradCtx.set(gCtx);
    return {
      loss: fl.loss,
      logits: fl.logits,
      textFeatures: txt,
      gradCtx,
      gradDeep: tokens ? [Float32Array.from(gTok)] : [],
    };
  };
  return Object.assign(fn, { calls });
}

export function unitRows(x: Float64Array, E: number): Float64Array {
  for (let r = 0; r < x.length / E; r++) {
    let s = 0;
    for (let e = 0; e < E; e++) s += x[r * E + e] ** 2;
    for (let e = 0; e < E; e++) x[r * E + e] /= Math.sqrt(s);
  }
  return x;
}

/**
 * Central differences of `loss` over every entry of `x`
 * (Float32 storage: the step actually taken is the denominator; 4e-3 keeps the tokens' float32 rounding, ~1e-8 of
 * the loss, under 1e-5 of the gradient).
 */
export async function fdGrad(x: Float32Array, loss: () => Promise<number>, eps = 4e-3): Promise<Float64Array> {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const keep = x[i];
    x[i] = keep + eps;
    const hi = x[i];
    const lp = await loss();
    x[i] = keep - eps;
    const lo = x[i];
    const lm = await loss();
    x[i] = keep;
    g[i] = (lp - lm) / (hi - lo);
  }
  return g;
}

export function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / Math.max(m, 1e-12);
}
