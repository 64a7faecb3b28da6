import { describe, expect, it } from 'vitest';
import { coopStepCpu } from '../../src/engine/cpu-text-encoder';
import { promptLayout } from '../../src/engine/prompt';
import type { TextConfig } from '../../src/engine/model/text-weights';
import { kgcoopPenalty, kgcoopTextGrad } from '../../src/coop/kgcoop';
import { progradKl, progradProject } from '../../src/coop/prograd';
import { methodLossAndGrad, type EngineStepFn } from '../../src/coop/prompt-methods';
import { randn } from '../helpers/random';
import { relErr, report } from '../helpers/compare';
import { loadFixture } from '../helpers/fixture';
import { randomImages, randomPrompts, randomTextWeights } from '../engine/random-model';
import { toyClipWeights } from '../engine/dumps';
import { METHOD_DUMPS, methodDumpFromFixture } from '../engine/method-dump-spec';

describe('ProGrad projection (the official rule)', () => {
  it('removes the CE gradient’s component along the KL gradient only when they conflict', () => {
    const a = [1, 0];
    const b = [-1, 1];
    const p = progradProject(a, b, 1);
    expect(p.projected).toBe(true);
    // a − (a·b̂) b̂ = [1,0] − (−1/√2)·[−1,1]/√2 = [0.5, 0.5], orthogonal to b.
    expect(Array.from(p.grad)).toEqual([0.5, 0.5]);
    expect(p.grad[0] * b[0] + p.grad[1] * b[1]).toBe(0);
    const half = progradProject(a, b, 0.5);
    expect(Array.from(half.grad)).toEqual([0.75, 0.25]);
    const agree = progradProject([1, 2], [1, 0], 1);
    expect(agree.projected).toBe(false);
    expect(Array.from(agree.grad)).toEqual([1, 2]);
    // A zero gradient gives NaN cosine: as torch's NaN < 0, no projection.
    expect(progradProject([1, 2], [0, 0], 1).projected).toBe(false);
  });
});

describe('KgCoOp and ProGrad text-feature terms', () => {
  it('KgCoOp penalty is w·(1 − mean cos); its text gradient is −(w/K)·ĉ', () => {
    const t = Float32Array.from([1, 0, 0, 1]);
    const c = Float32Array.from([0, 2, 0, 3]);
    expect(kgcoopPenalty(t, c, 2, 2, 8)).toBeCloseTo(8 * (1 - 0.5), 6);
    expect(Array.from(kgcoopTextGrad(c, 2, 2, 8))).toEqual([-0, -4, -0, -4]);
  });

  it('ProGrad KL (T = 2) matches finite differences of the official soft cross-entropy through the logits', () => {
    const N = 3, K = 4, E = 5, scale = 7, T = 2;
    const img = randn(N * E, 3, 1);
    const txt = randn(K * E, 4, 0.5);
    const zs = randn(N * K, 5, 3);
    const logitsOf = (t: ArrayLike<number>) => {
      const l = new Float64Array(N * K);
      for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) for (let e = 0; e < E; e++) l[n * K + k] += scale * img[n * E + e] * t[k * E + e];
      return l;
    };
    const { kl, dText } = progradKl(logitsOf(txt), zs, img, N, K, E, scale, T);
    const t64 = Float64Array.from(txt);
    const fd = new Float64Array(K * E);
    for (let i = 0; i < K * E; i++) {
      const keep = t64[i];
      t64[i] = keep + 1e-6;
      const lp = progradKl(logitsOf(t64), zs, img, N, K, E, scale, T).kl;
      t64[i] = keep - 1e-6;
      const lm = progradKl(logitsOf(t64), zs, img, N, K, E, scale, T).kl;
      t64[i] = keep;
      fd[i] = (lp - lm) / 2e-6;
    }
    expect(Number.isFinite(kl)).toBe(true);
    expect(report('prograd KL text grad vs FD', relErr(dText, fd, 1e-8))).toBeLessThan(1e-5);
  });
});

const small: TextConfig = { D: 8, L: 2, H: 2, V: 12, E: 6, F: 16, P: 16, eps: 1e-5 };

describe('CPU twin: a text-feature term enters the same backward (Float64 finite differences, random tower)', () => {
  const w = randomTextWeights(small, 5);
  const K = 3;
  const { imageFeatures, labels } = randomImages(4, small.E, K);
  const clip = randn(K * small.E, 9, 1);
  const weight = 8;
  for (const csc of [false, true]) {
    it(`${csc ? 'CSC' : 'unified'} middle: d(CE + KgCoOp)/d ctx and d(KL)/d ctx (replace) match central differences`, () => {
      const layout = promptLayout(randomPrompts(small, K, 2, csc, 'middle'), small.V);
      const ctx = randn(layout.ctxRows * small.D, 31, 0.5);
      const base = { layout, imageFeatures, labels, logitScale: 5 };
      const kgLoss = (c: Float64Array) => {
        const r = coopStepCpu(w, { ...base, ctx: c });
        return r.loss + kgcoopPenalty(r.textFeatures, clip, K, small.E, weight);
      };
      const add = Float64Array.from(kgcoopTextGrad(clip, K, small.E, weight)) as unknown as Float32Array;
      const g = coopStepCpu(w, { ...base, ctx, textGrad: { add } }).gradCtx;
      const zs = randn(labels.length * K, 12, 2);
      const klOf = (c: Float64Array) => {
        const r = coopStepCpu(w, { ...base, ctx: c });
        return progradKl(r.logits, zs, imageFeatures, labels.length, K, small.E, 5, 1);
      };
      const kl0 = klOf(ctx);
      const gKl = coopStepCpu(w, { ...base, ctx, textGrad: { add: Float64Array.from(kl0.dText) as unknown as Float32Array, replace: true } }).gradCtx;
      // ProGrad's way: one forward, the KL gradient formed from its logits, both backpropagated from it.
      const one = coopStepCpu(w, {
        ...base,
        ctx,
        secondGrad: (logits) => ({ add: Float64Array.from(progradKl(logits, zs, imageFeatures, labels.length, K, small.E, 5, 1).dText) as unknown as Float32Array, replace: true }),
      });
      expect(Array.from(one.gradCtx)).toEqual(Array.from(coopStepCpu(w, { ...base, ctx }).gradCtx));
      expect(Array.from(one.gradCtx2!)).toEqual(Array.from(gKl));
      const fdKg = new Float64Array(ctx.length);
      const fdKl = new Float64Array(ctx.length);
      for (let i = 0; i < ctx.length; i++) {
        const keep = ctx[i];
        ctx[i] = keep + 1e-6;
        const [kp, lp] = [kgLoss(ctx), klOf(ctx).kl];
        ctx[i] = keep - 1e-6;
        const [km, lm] = [kgLoss(ctx), klOf(ctx).kl];
        ctx[i] = keep;
        fdKg[i] = (kp - km) / 2e-6;
        fdKl[i] = (lp - lm) / 2e-6;
      }
      // kl0.dText is Float32: the KL gradient is good to float precision, the KgCoOp one to Float64's.
      expect(report(`cpu ${csc ? 'csc' : 'unified'} KgCoOp grad vs FD`, relErr(g, fdKg, 1e-8))).toBeLessThan(1e-6);
      expect(report(`cpu ${csc ? 'csc' : 'unified'} ProGrad KL grad vs FD`, relErr(gKl, fdKl, 1e-8))).toBeLessThan(1e-5);
    });
  }
});

describe('KgCoOp and ProGrad on the CPU twin vs PyTorch (toy-clip, every class position, unified and CSC)', () => {
  const w = toyClipWeights();
  for (const file of METHOD_DUMPS) {
    it(`${file}: loss, logits and the SGD step's gradient within 1e-4`, async () => {
      const d = methodDumpFromFixture(loadFixture(file));
      const layout = promptLayout(d.spec, w.config.V);
      const step: EngineStepFn = (ctx, imageFeatures, labels, textGrad, secondGrad) => {
        const r = coopStepCpu(w, { layout, ctx: ctx.data, imageFeatures, labels, logitScale: d.logitScale, textGrad, secondGrad });
        return { loss: r.loss, logits: Float32Array.from(r.logits), gradCtx: Float32Array.from(r.gradCtx), textFeatures: r.textFeatures, ...(r.gradCtx2 ? { gradCtx2: Float32Array.from(r.gradCtx2) } : {}) };
      };
      const r = await methodLossAndGrad(d.cfg, step)(d.context, d.imageFeatures, d.labels);
      const wantLoss = d.fx.f32('loss')[0];
      const lossErr = Math.abs(r.loss - wantLoss) / Math.abs(wantLoss);
      const gradErr = relErr(r.gradCtx, d.fx.f32('grad'));
      const logitErr = relErr(r.logits, d.fx.f32('logits'));
      const extra = d.cfg.method === 'prograd' ? ` kl ${(Math.abs(r.terms!.kl - (d.fx.meta.kl as number)) / (d.fx.meta.kl as number)).toExponential(2)} projected ${r.terms!.projected}` : '';
      console.log(`[tol] cpu ${file}: loss ${lossErr.toExponential(2)} grad ${gradErr.toExponential(2)} logits ${logitErr.toExponential(2)}${extra}`);
      expect(lossErr).toBeLessThan(1e-4);
      expect(gradErr).toBeLessThan(1e-4);
      expect(logitErr).toBeLessThan(1e-4);
      if (d.cfg.method === 'prograd') expect(r.terms!.projected === 1).toBe((d.fx.meta.cos as number) < 0);
    });
  }
});
