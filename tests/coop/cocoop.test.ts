import { describe, expect, it } from 'vitest';
import {
  cocoopLogits,
  cocoopLossAndGrad,
  initMetaNet,
  META_NET_NAMES,
  metaNetBackward,
  metaNetForward,
  metaNetFromExtras,
  perRowContext,
  type MetaNet,
} from '../../src/coop/cocoop';
import type { ContextVectors } from '../../src/coop/context-init';
import { featureCrossEntropy } from '../../src/coop/feature-ce';
import { gradCheck } from '../helpers/gradcheck';
import { randn } from '../helpers/random';
import { relErr, report } from '../helpers/compare';
import { fakeTower, fdGrad } from './fake-tower';
import { coopStepTower, loadTowerDump } from './tower-dumps';
import { toyClipWeights } from '../engine/dumps';
import { promptLayout } from '../../src/engine/prompt';
import { makeCpuTowerStep } from '../../src/engine/cpu-tower';

function unitRows(n: number, E: number, seed: number): Float32Array {
  const x = randn(n * E, seed, 1);
  for (let b = 0; b < n; b++) {
    let s = 0;
    for (let e = 0; e < E; e++) s += x[b * E + e] ** 2;
    for (let e = 0; e < E; e++) x[b * E + e] /= Math.sqrt(s);
  }
  return Float32Array.from(x);
}

/** A context with a Meta-Net whose weights are scaled up so that π matters (default init, times `gain`). */
function cocoopContext(M: number, D: number, E: number, seed: number, gain = 4): ContextVectors {
  const extras = initMetaNet({ E, D, seed });
  for (const p of extras) for (let i = 0; i < p.data.length; i++) p.data[i] *= gain;
  return { data: Float32Array.from(randn(M * D, seed + 5, 0.5)), nCtx: M, dim: D, cscClasses: 0, extras };
}

describe('CoCoOp Meta-Net', () => {
  it('is initialized as nn.Linear by default: U(±1/√fan_in) for weights and biases, official names and [out, in] shapes', () => {
    const E = 512, D = 64;
    const p = initMetaNet({ E, D, seed: 3 });
    expect(p.map((x) => x.name)).toEqual([...META_NET_NAMES]);
    expect(p.map((x) => x.shape)).toEqual([[32, 512], [32], [64, 32], [64]]);
    const bounds = [1 / Math.sqrt(E), 1 / Math.sqrt(E), 1 / Math.sqrt(32), 1 / Math.sqrt(32)];
    p.forEach((x, i) => {
      const a = Array.from(x.data);
      expect(Math.max(...a.map(Math.abs))).toBeLessThanOrEqual(bounds[i]);
      if (x.data.length > 1000) {
        const v = a.reduce((s, y) => s + y * y, 0) / a.length;
        expect(v / (bounds[i] ** 2 / 3)).toBeGreaterThan(0.9);
        expect(v / (bounds[i] ** 2 / 3)).toBeLessThan(1.1);
      }
    });
    expect(initMetaNet({ E, D, seed: 3 })[0].data).toEqual(p[0].data);
    expect(initMetaNet({ E, D, seed: 4 })[0].data).not.toEqual(p[0].data);
    expect(() => initMetaNet({ E: 8, D, seed: 1 })).toThrow(/below 16/);
  });

  it('backward matches Float64 central differences for all four tensors', () => {
    const E = 32, H = 2, D = 5, B = 3;
    const x = Float64Array.from(unitRows(B, E, 7));
    const inputs = [randn(H * E, 1, 0.5), randn(H, 2, 0.3), randn(D * H, 3, 0.5), randn(D, 4, 0.3)];
    const net = (xs: Float64Array[]): MetaNet => ({ E, H, D, w1: xs[0], b1: xs[1], w2: xs[2], b2: xs[3] });
    const fwd0 = metaNetForward(net(inputs), x, B);
    // Both signs of the pre-activation occur, so the ReLU gate is exercised.
    expect(Array.from(fwd0.h).some((v) => v > 0) && Array.from(fwd0.h).some((v) => v < 0)).toBe(true);
    const { relErrors } = gradCheck(
      inputs,
      (xs) => metaNetForward(net(xs), x, B).pi,
      (xs, dPi) => {
        const g = metaNetBackward(net(xs), x, metaNetForward(net(xs), x, B), dPi, B);
        return [g.w1, g.b1, g.w2, g.b2];
      },
    );
    relErrors.forEach((e, i) => expect(report(`meta-net d/d ${META_NET_NAMES[i]} vs FD`, e)).toBeLessThan(1e-7));
  });

  it('the per-row context is ctx + π_b for every class of image b (row b·K + k)', () => {
    const M = 2, D = 3, B = 2, K = 3;
    const ctx = Float32Array.from({ length: M * D }, (_, i) => i);
    const pi = Float64Array.from([100, 200, 300, -1, -2, -3]);
    const rows = perRowContext(ctx, pi, B, K, M, D);
    expect(rows.length).toBe(B * K * M * D);
    for (let k = 0; k < K; k++) {
      expect(Array.from(rows.subarray(k * M * D, (k + 1) * M * D))).toEqual([100, 201, 302, 103, 204, 305]);
      expect(Array.from(rows.subarray((K + k) * M * D, (K + k + 1) * M * D))).toEqual([-1, -1, -1, 2, 2, 2]);
    }
  });
});

describe('CoCoOp feature loss (each image against its own K rows)', () => {
  it('is the mean cross-entropy of scale·f_b·t_{bK+k}; its text gradient matches Float64 central differences', () => {
    const B = 3, K = 4, E = 6, scale = 9;
    const img = unitRows(B, E, 11);
    const txt = randn(B * K * E, 12, 0.4);
    const labels = [2, 0, 3];
    const s = { B, K, E, scale, R: B * K, row: (b: number, k: number) => b * K + k };
    const r = featureCrossEntropy(img, txt, labels, s);
    // By hand for image 1.
    const l1 = Array.from({ length: K }, (_, k) => scale * Array.from({ length: E }, (_, e) => img[E + e] * txt[(K + k) * E + e]).reduce((a, b) => a + b));
    expect(r.logits[K + 2]).toBeCloseTo(l1[2], 5);
    const ce = (t: ArrayLike<number>) => featureCrossEntropy(img, t, labels, s).loss;
    const fd = new Float64Array(txt.length);
    for (let i = 0; i < txt.length; i++) {
      const keep = txt[i];
      txt[i] = keep + 1e-6;
      const lp = ce(txt);
      txt[i] = keep - 1e-6;
      const lm = ce(txt);
      txt[i] = keep;
      fd[i] = (lp - lm) / 2e-6;
    }
    expect(report('cocoop CE d/d txt vs FD', relErr(r.dTxt, fd, 1e-8))).toBeLessThan(1e-7);
  });
});

describe('CoCoOp step through a tower (fake tower, Float32 storage)', () => {
  const K = 3, M = 2, D = 4, E = 32, B = 3;
  const scale = 7;

  it('runs one step of B·K rows with per-row context, and its gradients match central differences of its loss', async () => {
    const ctx = cocoopContext(M, D, E, 21);
    const features = unitRows(B, E, 22);
    const labels = Int32Array.from([0, 2, 1]);
    const t = fakeTower({ K, M, D, E, L: 2 });
    const cfg = { nClasses: K, dim: E, logitScale: scale };
    const r = await cocoopLossAndGrad(cfg, ctx, features, labels, t.step);
    expect(t.calls).toHaveLength(1);
    expect(t.calls[0]).toMatchObject({ repeat: B, ctxPerRow: true });
    const { net } = metaNetFromExtras(ctx.extras, D);
    const { h, pi } = metaNetForward(net, features, B);
    expect(Array.from(h).some((v) => v > 0) && Array.from(h).some((v) => v < 0)).toBe(true);
    expect(Array.from(t.calls[0].ctx)).toEqual(Array.from(perRowContext(ctx.data, pi, B, K, M, D)));
    expect(r.logits.length).toBe(B * K);
    expect(r.gradExtras).toHaveLength(4);
    // Steps of 1e-3 on Float32 parameters, and the rows' context is stored in Float32: ~1e-4 of FD noise.
    const loss = async () => (await cocoopLossAndGrad(cfg, ctx, features, labels, t.step)).loss;
    const fdCtx = await fdGrad(ctx.data, loss);
    expect(report('cocoop step d/d ctx vs FD (fake tower)', relErr(r.gradCtx, fdCtx))).toBeLessThan(1e-3);
    for (let i = 0; i < 4; i++) {
      const p = ctx.extras![i];
      const fd = await fdGrad(p.data, loss);
      expect(report(`cocoop step d/d ${p.name} vs FD (fake tower)`, relErr(r.gradExtras![i], fd))).toBeLessThan(1e-3);
    }
  });

  it('gives gradExtras in the order of the context’s extras', async () => {
    const ctx = cocoopContext(M, D, E, 31);
    const features = unitRows(B, E, 32);
    const labels = Int32Array.from([1, 1, 0]);
    const t = fakeTower({ K, M, D, E, L: 2 });
    const cfg = { nClasses: K, dim: E, logitScale: scale };
    const a = await cocoopLossAndGrad(cfg, ctx, features, labels, t.step);
    const reversed = { ...ctx, extras: [...ctx.extras!].reverse() };
    const b = await cocoopLossAndGrad(cfg, reversed, features, labels, t.step);
    expect(b.gradExtras).toEqual([...a.gradExtras!].reverse());
    expect(b.gradCtx).toEqual(a.gradCtx);
  });

  it('scores images in groups of bounded rows, with the same logits as the training step', async () => {
    const ctx = cocoopContext(M, D, E, 41);
    const N = 5;
    const features = unitRows(N, E, 42);
    const t = fakeTower({ K, M, D, E, L: 2 });
    const cfg = { nClasses: K, dim: E, logitScale: scale, evalRows: 7 };
    const logits = await cocoopLogits(cfg, ctx, features, t.step);
    // 7 rows hold 2 images of K = 3: calls of 2, 2 and 1 images, none with a feature loss.
    expect(t.calls.map((c) => c.repeat)).toEqual([2, 2, 1]);
    expect(t.calls.every((c) => c.featureLoss === undefined && c.ctxPerRow)).toBe(true);
    const step = await cocoopLossAndGrad(cfg, ctx, features, new Int32Array(N), t.step);
    expect(relErr(logits, step.logits)).toBeLessThan(1e-6);
  });

  it('refuses a class-specific context, a missing Meta-Net and a stranger among the extras', async () => {
    const t = fakeTower({ K, M, D, E, L: 2 });
    const cfg = { nClasses: K, dim: E, logitScale: scale };
    const f = unitRows(1, E, 1);
    const y = Int32Array.from([0]);
    const ctx = cocoopContext(M, D, E, 51);
    await expect(cocoopLossAndGrad(cfg, { ...ctx, cscClasses: K }, f, y, t.step)).rejects.toThrow(/class-specific/);
    await expect(cocoopLossAndGrad(cfg, { ...ctx, extras: ctx.extras!.slice(1) }, f, y, t.step)).rejects.toThrow(/meta_net\.linear1\.weight/);
    const stranger = { name: 'deep_ctx.1', shape: [M, D], data: new Float32Array(M * D) };
    await expect(cocoopLossAndGrad(cfg, { ...ctx, extras: [...ctx.extras!, stranger] }, f, y, t.step)).rejects.toThrow(/deep_ctx\.1/);
    await expect(cocoopLossAndGrad({ ...cfg, dim: 48 }, ctx, unitRows(1, 48, 1), y, t.step)).rejects.toThrow(/reads 32/);
  });
});

describe('CoCoOp vs PyTorch (toy-clip, tools/toy-clip/tower_dumps.py: K = 5, B = 3)', () => {
  it('through the CPU twin’s CoOp step image by image: loss, logits, d/d ctx and every Meta-Net gradient within 1e-4', async () => {
    const w = toyClipWeights();
    const d = loadTowerDump('cocoop');
    const tower = coopStepTower(w, promptLayout(d.spec, w.config.V));
    const r = await cocoopLossAndGrad({ nClasses: d.K, dim: d.E, logitScale: d.logitScale }, d.context, d.imageFeatures, d.labels, tower);
    const lossErr = Math.abs(r.loss - d.fx.f32('loss')[0]) / d.fx.f32('loss')[0];
    expect(report('cocoop (cpu, per image) loss', lossErr)).toBeLessThan(1e-4);
    expect(report('cocoop (cpu, per image) logits', relErr(r.logits, d.fx.f32('logits')))).toBeLessThan(1e-4);
    expect(report('cocoop (cpu, per image) grad ctx', relErr(r.gradCtx, d.fx.f32('grad')))).toBeLessThan(1e-4);
    META_NET_NAMES.forEach((n, i) => {
      expect(report(`cocoop (cpu, per image) grad ${n}`, relErr(r.gradExtras![i], d.fx.f32(`grad.${n}`)))).toBeLessThan(1e-4);
    });
    const logits = await cocoopLogits({ nClasses: d.K, dim: d.E, logitScale: d.logitScale, evalRows: 10 }, d.context, d.imageFeatures, tower);
    expect(relErr(logits, d.fx.f32('logits'))).toBeLessThan(1e-4);
  });
});

describe('CoCoOp vs PyTorch through the tower step (makeCpuTowerStep, JavaScript kernels)', () => {
  it('one step of B·K = 15 rows with a context per row: loss, logits, d/d ctx and every Meta-Net gradient within 1e-4', async () => {
    const w = toyClipWeights();
    const d = loadTowerDump('cocoop');
    const tower = makeCpuTowerStep(w, { tokenIds: d.spec.tokenIds, nameLens: d.spec.nameLens, position: 'end' });
    const cfg = { nClasses: d.K, dim: d.E, logitScale: d.logitScale };
    const r = await cocoopLossAndGrad(cfg, d.context, d.imageFeatures, d.labels, tower);
    const lossErr = Math.abs(r.loss - d.fx.f32('loss')[0]) / d.fx.f32('loss')[0];
    expect(report('cocoop (cpu tower) loss', lossErr)).toBeLessThan(1e-4);
    expect(report('cocoop (cpu tower) logits', relErr(r.logits, d.fx.f32('logits')))).toBeLessThan(1e-4);
    expect(report('cocoop (cpu tower) grad ctx', relErr(r.gradCtx, d.fx.f32('grad')))).toBeLessThan(1e-4);
    META_NET_NAMES.forEach((n, i) => {
      expect(report(`cocoop (cpu tower) grad ${n}`, relErr(r.gradExtras![i], d.fx.f32(`grad.${n}`)))).toBeLessThan(1e-4);
    });
    const logits = await cocoopLogits({ ...cfg, evalRows: 10 }, d.context, d.imageFeatures, tower);
    expect(report('cocoop (cpu tower) eval logits, 2 images a call', relErr(logits, d.fx.f32('logits')))).toBeLessThan(1e-4);
  });
});
