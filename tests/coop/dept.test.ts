import { describe, expect, it } from 'vitest';
import type { ContextVectors } from '../../src/coop/context-init';
import { DEPT_DEFAULTS, DEPT_PARAM_NAMES, deptLogits, deptLossAndGrad, deptTextLoss, initDept, type DeptConfig } from '../../src/coop/dept';
import { similarityCe } from '../../src/coop/feature-loss';
import { makeCpuTowerStep } from '../../src/engine/cpu-tower';
import { relErr, report } from '../helpers/compare';
import { dumpFromFixture } from '../engine/dump-spec';
import { toyClipWeights } from '../engine/dumps';
import { loadFixture } from '../helpers/fixture';
import { gradCheck } from '../helpers/gradcheck';
import { randn, randInts } from '../helpers/random';
import { fakeTower, fdGrad, maxRel, unitRows } from './fake-tower-fd';

describe('DePT: parameters', () => {
  it('starts the FiLMs at identity and the head as nn.Linear(E, K), all at 6.5× the prompt’s lr', () => {
    const p = initDept({ dim: 16, nClasses: 5, seed: 3 });
    expect(p.map((x) => x.name)).toEqual([...DEPT_PARAM_NAMES]);
    expect(p.map((x) => x.shape)).toEqual([[16], [16], [16], [16], [5, 16], [5]]);
    expect(Array.from(p[0].data)).toEqual(new Array(16).fill(1));
    expect(Array.from(p[1].data)).toEqual(new Array(16).fill(0));
    expect(Array.from(p[2].data)).toEqual(new Array(16).fill(1));
    expect(Array.from(p[3].data)).toEqual(new Array(16).fill(0));
    expect(Math.max(...Array.from(p[4].data, Math.abs))).toBeLessThanOrEqual(0.25);
    expect(Math.max(...Array.from(p[5].data, Math.abs))).toBeLessThanOrEqual(0.25);
    expect(p.every((x) => x.lrScale === 6.5)).toBe(true);
    expect(DEPT_DEFAULTS.lr * DEPT_DEFAULTS.lrScale).toBeCloseTo(0.02275, 12);
  });
});

const K = 4;
const E = 6;
const B = 5;

function randomParams(seed: number): Float64Array[] {
  return [
    randn(E, seed, 0.2).map((v) => 1 + v),
    randn(E, seed + 1, 0.1),
    randn(E, seed + 2, 0.2).map((v) => 1 + v),
    randn(E, seed + 3, 0.1),
    randn(K * E, seed + 4, 0.5),
    randn(K, seed + 5, 0.2),
  ];
}

describe('DePT host math in f64 (finite differences)', () => {
  const f = unitRows(randn(B * E, 51), E);
  const labels = Int32Array.from(randInts(B, K, 52));
  const clip = Float32Array.from(unitRows(randn(K * E, 53), E));
  const t = unitRows(randn(K * E, 54), E);

  for (const base of ['coop', 'kgcoop'] as const) {
    const cfg: DeptConfig = { base, nClasses: K, dim: E, logitScale: 15, lpWeight: 0.7, ...(base === 'kgcoop' ? { kgcoop: { weight: 2, clipFeatures: clip } } : {}) };

    it(`${base}: the loss is 0.3·CE(sim) + 0.7·CE(head over 2B rows)${base === 'kgcoop' ? ' + w(1 − mean cos)' : ''}`, () => {
      const p = randomParams(60);
      const r = deptTextLoss(cfg, p, t, f, labels);
      expect(r.loss).toBeCloseTo(0.3 * r.ce + 0.7 * r.ceLp + r.kg, 12);
      expect(r.ce).toBeCloseTo(similarityCe(t, f, labels, K, E, 15).loss, 12);
      if (base === 'coop') expect(r.kg).toBe(0);
      else expect(r.kg).toBeGreaterThan(0);
      // The head's CE by hand: text rows of the labels, then the images, labels repeated.
      let ce = 0;
      for (let r2 = 0; r2 < 2 * B; r2++) {
        const y = labels[r2 % B];
        const x = r2 < B ? t.subarray(y * E, y * E + E) : f.subarray((r2 - B) * E, (r2 - B + 1) * E);
        const [g, b] = r2 < B ? [p[2], p[3]] : [p[0], p[1]];
        const z = Array.from({ length: K }, (_, k) => {
          let s = p[5][k];
          for (let e = 0; e < E; e++) s += p[4][k * E + e] * (g[e] * x[e] + b[e]);
          return s;
        });
        const mx = Math.max(...z);
        ce += mx + Math.log(z.reduce((a, v) => a + Math.exp(v - mx), 0)) - z[y];
      }
      expect(r.ceLp).toBeCloseTo(ce / (2 * B), 12);
    });

    it(`${base}: gradients on the text features and on every DePT tensor`, () => {
      const p = randomParams(70);
      const inputs = [t.slice(), ...p];
      const fwd = (xs: Float64Array[]) => [deptTextLoss(cfg, xs.slice(1), xs[0], f, labels).loss];
      const bwd = (xs: Float64Array[], d: Float64Array) => {
        const r = deptTextLoss(cfg, xs.slice(1), xs[0], f, labels);
        return [r.dText, ...r.dParams].map((g) => g.map((v) => v * d[0]));
      };
      const g = gradCheck(inputs, fwd, bwd);
      g.relErrors.forEach((e, i) => expect(e, i === 0 ? 'text' : DEPT_PARAM_NAMES[i - 1]).toBeLessThan(1e-7));
    });
  }
});

describe('DePT step through a tower (fake, differentiable) and its evaluation logits', () => {
  const M = 4;
  const D = 5;
  const shape = { K, M, D, E };
  const features = Float32Array.from(unitRows(randn(B * E, 81), E));
  const labels = Int32Array.from([0, 3, 1, 2, 3]);
  const clip = Float32Array.from(unitRows(randn(K * E, 82), E));

  function makeCtx(): ContextVectors {
    const extras = initDept({ dim: E, nClasses: K, seed: 9 });
    randomParams(90).forEach((v, i) => extras[i].data.set(v));
    return { data: Float32Array.from(randn(M * D, 83, 0.3)), nCtx: M, dim: D, cscClasses: 0, extras };
  }

  for (const base of ['coop', 'kgcoop'] as const) {
    it(`${base}: context and DePT gradients match finite differences; no deep tokens`, async () => {
      const cfg: DeptConfig = { base, nClasses: K, dim: E, logitScale: 15, lpWeight: 0.7, ...(base === 'kgcoop' ? { kgcoop: { weight: 2, clipFeatures: clip } } : {}) };
      const tower = fakeTower(shape);
      const ctx = makeCtx();
      const r = await deptLossAndGrad(cfg, ctx, features, labels, tower);
      expect(tower.calls[0].deep ?? []).toHaveLength(0);
      expect(Object.keys(r.terms!)).toEqual(base === 'kgcoop' ? ['ce', 'ce_lp', 'kg'] : ['ce', 'ce_lp']);
      const loss = async () => (await deptLossAndGrad(cfg, ctx, features, labels, tower)).loss;
      expect(maxRel(r.gradCtx, await fdGrad(ctx.data, loss))).toBeLessThan(1e-4);
      for (let j = 0; j < DEPT_PARAM_NAMES.length; j++) {
        expect(maxRel(r.gradExtras![j], await fdGrad(ctx.extras![j].data, loss)), DEPT_PARAM_NAMES[j]).toBeLessThan(1e-4);
      }
      // The step's logits are the base-class evaluation logits of the same features.
      const txt = (await fakeTower(shape)({ ctx: ctx.data })).textFeatures;
      const ev = deptLogits(cfg, ctx, features, txt, true);
      expect(maxRel(r.logits, ev)).toBeLessThan(1e-5);
    });
  }

  it('scores base classes 0.3·sim + 0.7·head(FiLM(f)) (logits, not probabilities), new classes by similarity alone', async () => {
    const ctx = makeCtx();
    const cfg = { dim: E, logitScale: 15, lpWeight: 0.7 };
    const txt = Float32Array.from(unitRows(randn(K * E, 84), E));
    const sim = deptLogits(cfg, ctx, features, txt, false);
    const fused = deptLogits(cfg, ctx, features, txt, true);
    const [gi, bi, , , W, b] = ctx.extras!.map((p) => p.data);
    for (let n = 0; n < B; n++)
      for (let k = 0; k < K; k++) {
        let s = 0;
        let h = b[k];
        for (let e = 0; e < E; e++) {
          s += features[n * E + e] * txt[k * E + e];
          h += W[k * E + e] * (gi[e] * features[n * E + e] + bi[e]);
        }
        expect(sim[n * K + k]).toBeCloseTo(15 * s, 4);
        expect(fused[n * K + k]).toBeCloseTo(0.3 * 15 * s + 0.7 * h, 4);
      }
    // New classes may be any number; the head is not used.
    const txt3 = txt.slice(0, 3 * E);
    expect(deptLogits(cfg, ctx, features, txt3, false)).toHaveLength(B * 3);
    expect(() => deptLogits(cfg, ctx, features, txt3, true)).toThrow(/base classes/);
  });
});

describe('DePT host math against the PyTorch dumps (tools/toy-clip/tcp_dept_dumps.py)', () => {
  for (const base of ['coop', 'kgcoop'] as const) {
    it(`${base}: loss, fused logits and every DePT gradient from the dumped text features`, () => {
      const fx = loadFixture(`methods/dept-${base}-unified-end.bin`);
      const txt = fx.f32('text_features');
      const [Kf, Ef] = fx.shape('text_features');
      const cfg: DeptConfig = {
        base,
        nClasses: Kf,
        dim: Ef,
        logitScale: fx.meta.logit_scale as number,
        lpWeight: fx.meta.dept_lp_weight as number,
        ...(base === 'kgcoop' ? { kgcoop: { weight: fx.meta.kg_weight as number, clipFeatures: fx.f32('kg_text_features') } } : {}),
      };
      const p = DEPT_PARAM_NAMES.map((n) => fx.f32(n));
      const r = deptTextLoss(cfg, p, txt, fx.f32('image_features'), fx.i32('labels'));
      expect(r.loss).toBeCloseTo(fx.meta.loss as number, 5);
      expect(r.ce).toBeCloseTo(fx.meta.ce as number, 5);
      expect(r.ceLp).toBeCloseTo(fx.meta.ce_lp as number, 5);
      expect(r.kg).toBeCloseTo(fx.meta.kg as number, 5);
      expect(report('logits', relErr(r.logits, fx.f32('logits')))).toBeLessThan(1e-5);
      DEPT_PARAM_NAMES.forEach((n, j) => expect(report(`dept-${base} ${n}`, relErr(r.dParams[j], fx.f32('grad_' + n))), n).toBeLessThan(1e-4));
      const ctx: ContextVectors = { data: fx.f32('ctx'), nCtx: 4, dim: fx.shape('ctx')[1], cscClasses: 0, extras: initDept({ dim: Ef, nClasses: Kf, seed: 1 }) };
      ctx.extras!.forEach((e, j) => e.data.set(p[j]));
      expect(relErr(deptLogits(cfg, ctx, fx.f32('image_features'), txt, true), fx.f32('logits'))).toBeLessThan(1e-5);
      expect(relErr(deptLogits(cfg, ctx, fx.f32('image_features'), txt, false), fx.f32('logits_sim'))).toBeLessThan(1e-5);
    });
  }
});

describe('DePT steps on the CPU tower vs PyTorch (toy-clip)', () => {
  const w = toyClipWeights();
  for (const base of ['coop', 'kgcoop'] as const) {
    it(`${base}: loss, fused logits, the context gradient and every DePT gradient within 1e-4`, async () => {
      const d = dumpFromFixture(loadFixture(`methods/dept-${base}-unified-end.bin`));
      const fx = d.fx;
      const K = d.spec.tokenIds.length;
      const E = d.imageFeatures.length / d.labels.length;
      const cfg: DeptConfig = {
        base,
        nClasses: K,
        dim: E,
        logitScale: d.logitScale,
        lpWeight: fx.meta.dept_lp_weight as number,
        ...(base === 'kgcoop' ? { kgcoop: { weight: fx.meta.kg_weight as number, clipFeatures: fx.f32('kg_text_features') } } : {}),
      };
      const ctx: ContextVectors = {
        data: d.ctx,
        nCtx: d.spec.nCtx,
        dim: w.config.D,
        cscClasses: 0,
        extras: initDept({ dim: E, nClasses: K, seed: 1 }).map((p) => ({ ...p, data: fx.f32(p.name).slice() })),
      };
      const r = await deptLossAndGrad(cfg, ctx, d.imageFeatures, d.labels, makeCpuTowerStep(w, d.spec));
      const lossErr = Math.abs(r.loss - (fx.meta.loss as number)) / (fx.meta.loss as number);
      expect(report(`cpu dept-${base} loss`, lossErr)).toBeLessThan(1e-4);
      expect(report(`cpu dept-${base} logits`, relErr(r.logits, fx.f32('logits')))).toBeLessThan(1e-4);
      expect(report(`cpu dept-${base} grad ctx`, relErr(r.gradCtx, fx.f32('grad')))).toBeLessThan(1e-4);
      DEPT_PARAM_NAMES.forEach((n, j) => expect(report(`cpu dept-${base} grad ${n}`, relErr(r.gradExtras![j], fx.f32('grad_' + n))), n).toBeLessThan(1e-4));
    });
  }
});
