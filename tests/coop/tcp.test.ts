import { describe, expect, it } from 'vitest';
import type { ContextVectors } from '../../src/coop/context-init';
import { anchorPenalty, similarityCe } from '../../src/coop/feature-loss';
import { quickGelu, quickGeluGrad } from '../../src/coop/mlp';
import {
  initTcpMetaNet,
  metaNetBackward,
  metaNetForward,
  tcpBlock,
  tcpLossAndGrad,
  tcpTextFeatures,
  tcpTextLoss,
  TCP_PARAM_NAMES,
  type MetaNetParams,
  type TcpConfig,
} from '../../src/coop/tcp';
import { makeCpuTowerStep } from '../../src/engine/cpu-tower';
import { nameLensFromIds } from '../../src/engine/prompt';
import { WasmKernels } from '../../src/engine/wasm/kernels';
import { relErr, report } from '../helpers/compare';
import { dumpFromFixture } from '../engine/dump-spec';
import { toyClipWeights } from '../engine/dumps';
import { loadFixture } from '../helpers/fixture';
import { gradCheck } from '../helpers/gradcheck';
import { randn, randInts } from '../helpers/random';
import { fakeTower, fdGrad, maxRel, unitRows } from './fake-tower-fd';

describe('TCP: the block, the init', () => {
  it('takes block 8 on 12-layer CLIP and two thirds of the depth on shallower towers', () => {
    expect(tcpBlock(12)).toBe(8);
    expect(tcpBlock(24)).toBe(8);
    expect(tcpBlock(4)).toBe(3);
    expect(tcpBlock(2)).toBe(1);
    expect(() => tcpBlock(1)).toThrow();
  });

  it('makes the official MLP: Linear(E, E/4) → QuickGELU → Linear(E/4, 4·D), nn.Linear bounds, seeded', () => {
    const p = initTcpMetaNet({ dim: 512, tokenDim: 512, seed: 1 });
    expect(p.map((x) => x.name)).toEqual([...TCP_PARAM_NAMES]);
    expect(p.map((x) => x.shape)).toEqual([[128, 512], [128], [2048, 128], [2048]]);
    const bound = (x: Float32Array) => Math.max(...Array.from(x, Math.abs));
    expect(bound(p[0].data)).toBeLessThanOrEqual(1 / Math.sqrt(512));
    expect(bound(p[0].data)).toBeGreaterThan(0.9 / Math.sqrt(512));
    expect(bound(p[3].data)).toBeLessThanOrEqual(1 / Math.sqrt(128));
    expect(initTcpMetaNet({ dim: 512, tokenDim: 512, seed: 1 })[2].data).toEqual(p[2].data);
    expect(initTcpMetaNet({ dim: 512, tokenDim: 512, seed: 2 })[2].data).not.toEqual(p[2].data);
    expect(p.every((x) => (x.lrScale ?? 1) === 1)).toBe(true);
  });
});

describe('TCP host math in f64 (finite differences)', () => {
  it('QuickGELU’s derivative', () => {
    for (const x of [-3, -0.7, 0, 0.2, 1.5, 4]) {
      const h = 1e-6;
      expect(quickGeluGrad(x)).toBeCloseTo((quickGelu(x + h) - quickGelu(x - h)) / (2 * h), 8);
    }
  });

  it('the MLP’s backward', () => {
    const K = 3;
    const E = 8;
    const H = 2;
    const O = 12;
    const c = unitRows(randn(K * E, 5), E);
    const inputs = [randn(H * E, 6, 0.5), randn(H, 7, 0.3), randn(O * H, 8, 0.5), randn(O, 9, 0.3)];
    const r = gradCheck(
      inputs,
      (xs) => metaNetForward(xs as unknown as MetaNetParams, c, K, E).out,
      (xs, dOut) => {
        const f = metaNetForward(xs as unknown as MetaNetParams, c, K, E);
        return metaNetBackward(xs as unknown as MetaNetParams, f.cache, dOut);
      },
    );
    for (const e of r.relErrors) expect(e).toBeLessThan(1e-7);
  });

  it('the similarity CE and the knowledge term on the text features', () => {
    const K = 4;
    const E = 6;
    const B = 7;
    const f = unitRows(randn(B * E, 11), E);
    const labels = Int32Array.from(randInts(B, K, 12));
    const c = unitRows(randn(K * E, 13), E);
    // Unnormalized t: the gradients are exact for any t, not only on the sphere.
    const t = randn(K * E, 14, 0.7);
    const ce = gradCheck([t], ([x]) => [similarityCe(x, f, labels, K, E, 20.8).loss], ([x], d) => [similarityCe(x, f, labels, K, E, 20.8).dText.map((g) => g * d[0])]);
    expect(ce.relErrors[0]).toBeLessThan(1e-7);
    const kg = gradCheck([t], ([x]) => [anchorPenalty(x, c, K, E, 8).penalty], ([x], d) => [anchorPenalty(x, c, K, E, 8).dText.map((g) => g * d[0])]);
    expect(kg.relErrors[0]).toBeLessThan(1e-7);
    // On the sphere the knowledge term is KgCoOp's w(1 − mean cos).
    const tu = unitRows(t.slice(), E);
    let cos = 0;
    for (let k = 0; k < K; k++) for (let e = 0; e < E; e++) cos += tu[k * E + e] * c[k * E + e];
    expect(anchorPenalty(tu, c, K, E, 8).penalty).toBeCloseTo(8 * (1 - cos / K), 12);
  });

  it('tcpTextLoss = CE + w(1 − mean cos), its gradient the sum of both', () => {
    const K = 3;
    const E = 5;
    const B = 4;
    const cfg: TcpConfig = { nClasses: K, dim: E, tokenDim: 2, logitScale: 10, weight: 8, block: 1, handWritten: Float32Array.from(unitRows(randn(K * E, 21), E)) };
    const f = unitRows(randn(B * E, 22), E);
    const labels = Int32Array.from([0, 2, 1, 2]);
    const t = unitRows(randn(K * E, 23), E);
    const r = tcpTextLoss(cfg, t, f, labels);
    expect(r.loss).toBeCloseTo(r.ce + r.kg, 12);
    const g = gradCheck([t], ([x]) => [tcpTextLoss(cfg, x, f, labels).loss], ([x], d) => [tcpTextLoss(cfg, x, f, labels).dText.map((v) => v * d[0])]);
    expect(g.relErrors[0]).toBeLessThan(1e-7);
  });
});

describe('TCP step through a tower (fake, differentiable)', () => {
  const K = 3;
  const M = 4;
  const D = 6;
  const E = 8;
  const B = 5;
  const shape = { K, M, D, E };
  const hand = Float32Array.from(unitRows(randn(K * E, 31), E));
  const features = Float32Array.from(unitRows(randn(B * E, 32), E));
  const labels = Int32Array.from([0, 1, 2, 2, 0]);
  const cfg: TcpConfig = { nClasses: K, dim: E, tokenDim: D, logitScale: 12, weight: 8, block: 1, handWritten: hand };

  function makeCtx(): ContextVectors {
    const extras = initTcpMetaNet({ dim: E, tokenDim: D, seed: 4 });
    // Scale the MLP up from its init so the tokens (and their gradients) are far from zero.
    for (const p of extras) for (let i = 0; i < p.data.length; i++) p.data[i] *= 3;
    return { data: Float32Array.from(randn(M * D, 33, 0.3)), nCtx: M, dim: D, cscClasses: 0, extras };
  }

  it('hands the tower one per-row deep entry [K, 4, D] at the block, and the extras’ gradients match finite differences', async () => {
    const tower = fakeTower(shape);
    const ctx = makeCtx();
    const r = await tcpLossAndGrad(cfg, ctx, features, labels, tower);
    const call = tower.calls[0];
    expect(call.deep).toHaveLength(1);
    expect(call.deep![0].block).toBe(1);
    expect(call.deep![0].perRow).toBe(true);
    expect(call.deep![0].tokens.length).toBe(K * 4 * D);
    expect(r.terms!.ce + r.terms!.kg).toBeCloseTo(r.loss, 10);
    expect(r.gradExtras).toHaveLength(4);
    const loss = async () => (await tcpLossAndGrad(cfg, ctx, features, labels, tower)).loss;
    expect(maxRel(r.gradCtx, await fdGrad(ctx.data, loss))).toBeLessThan(1e-4);
    for (let j = 0; j < 4; j++) {
      const fd = await fdGrad(ctx.extras![j].data, loss);
      expect(maxRel(r.gradExtras![j], fd), TCP_PARAM_NAMES[j]).toBeLessThan(1e-4);
    }
  });

  it('keeps gradExtras in the extras’ order and leaves other extras at zero', async () => {
    const ctx = makeCtx();
    const other = { name: 'something.else', shape: [3], data: Float32Array.from([1, 2, 3]) };
    const shuffled = { ...ctx, extras: [ctx.extras![3], other, ctx.extras![0], ctx.extras![2], ctx.extras![1]] };
    const a = await tcpLossAndGrad(cfg, ctx, features, labels, fakeTower(shape));
    const b = await tcpLossAndGrad(cfg, shuffled, features, labels, fakeTower(shape));
    expect(b.loss).toBe(a.loss);
    expect(b.gradExtras![0]).toEqual(a.gradExtras![3]);
    expect(Array.from(b.gradExtras![1])).toEqual([0, 0, 0]);
    expect(b.gradExtras![2]).toEqual(a.gradExtras![0]);
    expect(b.gradExtras![4]).toEqual(a.gradExtras![1]);
  });

  it('gives new classes their tokens from the trained MLP, forward only', async () => {
    const ctx = makeCtx();
    const tower = fakeTower(shape);
    const newHand = Float32Array.from(unitRows(randn(K * E, 41), E));
    const t = await tcpTextFeatures(cfg, ctx, newHand, tower);
    expect(t.length).toBe(K * E);
    expect(tower.calls[0].featureLoss).toBeUndefined();
    const expected = metaNetForward(ctx.extras!.map((p) => p.data) as unknown as MetaNetParams, newHand, K, E).out;
    expect(Array.from(tower.calls[0].deep![0].tokens)).toEqual(Array.from(Float32Array.from(expected)));
    await expect(tcpTextFeatures(cfg, { ...ctx, cscClasses: K, data: new Float32Array(K * M * D) }, newHand, tower)).rejects.toThrow(/shared context/);
  });

  it('names a missing MLP', async () => {
    const ctx = { ...makeCtx(), extras: [] };
    await expect(tcpLossAndGrad(cfg, ctx, features, labels, fakeTower(shape))).rejects.toThrow(/meta_net.linear1.weight/);
  });
});

describe('TCP host math against the PyTorch dump (tools/toy-clip/tcp_dept_dumps.py)', () => {
  const fx = loadFixture('methods/tcp-unified-end.bin');
  const hand = fx.f32('hand_written');
  const [K, E] = fx.shape('hand_written');
  const D = fx.shape('tokens')[2];
  const params = TCP_PARAM_NAMES.map((n) => fx.f32(n)) as unknown as MetaNetParams;

  it('the MLP gives the dumped class tokens, and its backward the dumped parameter gradients from the tokens’ gradient', () => {
    expect(fx.shape('tokens')).toEqual([K, 4, D]);
    const f = metaNetForward(params, hand, K, E);
    expect(report('tcp tokens', relErr(f.out, fx.f32('tokens')))).toBeLessThan(1e-5);
    const g = metaNetBackward(params, f.cache, fx.f32('grad_tokens'));
    TCP_PARAM_NAMES.forEach((n, j) => expect(report(`tcp ${n}`, relErr(g[j], fx.f32('grad_' + n))), n).toBeLessThan(1e-4));
  });

  it('the loss on the dumped text features: CE + 8(1 − mean cos) and the logits', () => {
    const cfg: TcpConfig = {
      nClasses: K,
      dim: E,
      tokenDim: D,
      logitScale: fx.meta.logit_scale as number,
      weight: fx.meta.tcp_weight as number,
      block: fx.meta.tcp_block as number,
      handWritten: hand,
    };
    const r = tcpTextLoss(cfg, fx.f32('text_features'), fx.f32('image_features'), fx.i32('labels'));
    expect(r.loss).toBeCloseTo(fx.meta.loss as number, 5);
    expect(r.ce).toBeCloseTo(fx.meta.ce as number, 5);
    expect(r.kg).toBeCloseTo(fx.meta.kg as number, 5);
    expect(report('logits', relErr(r.logits, fx.f32('logits')))).toBeLessThan(1e-5);
    expect(fx.meta.tcp_block).toBe(tcpBlock(4));
  });
});

describe('TCP step on the CPU tower vs PyTorch (toy-clip, class tokens at block 3)', () => {
  const w = toyClipWeights();
  const d = dumpFromFixture(loadFixture('methods/tcp-unified-end.bin'));
  const fx = d.fx;
  const [K, E] = fx.shape('hand_written');
  const D = w.config.D;
  const cfg: TcpConfig = {
    nClasses: K,
    dim: E,
    tokenDim: D,
    logitScale: d.logitScale,
    weight: fx.meta.tcp_weight as number,
    block: fx.meta.tcp_block as number,
    handWritten: fx.f32('hand_written'),
  };
  const ctx = (): ContextVectors => ({
    data: d.ctx,
    nCtx: d.spec.nCtx,
    dim: D,
    cscClasses: 0,
    extras: initTcpMetaNet({ dim: E, tokenDim: D, seed: 1 }).map((p) => ({ ...p, data: fx.f32(p.name).slice() })),
  });

  it('loss, logits, the context gradient and every MLP gradient within 1e-4', async () => {
    const tower = makeCpuTowerStep(w, d.spec);
    const r = await tcpLossAndGrad(cfg, ctx(), d.imageFeatures, d.labels, tower);
    const lossErr = Math.abs(r.loss - (fx.meta.loss as number)) / (fx.meta.loss as number);
    expect(report('cpu tcp loss', lossErr)).toBeLessThan(1e-4);
    expect(r.terms!.kg).toBeCloseTo(fx.meta.kg as number, 4);
    expect(report('cpu tcp logits', relErr(r.logits, fx.f32('logits')))).toBeLessThan(1e-4);
    expect(report('cpu tcp grad ctx', relErr(r.gradCtx, fx.f32('grad')))).toBeLessThan(1e-4);
    TCP_PARAM_NAMES.forEach((n, j) => expect(report(`cpu tcp grad ${n}`, relErr(r.gradExtras![j], fx.f32('grad_' + n))), n).toBeLessThan(1e-4));
  });

  it('new classes: text features from the trained MLP on their hand-written features', async () => {
    const ids = fx.i32('new_token_ids');
    const [Kn, T] = fx.shape('new_token_ids');
    const tokenIds = Array.from({ length: Kn }, (_, k) => ids.subarray(k * T, (k + 1) * T));
    const tower = makeCpuTowerStep(w, { tokenIds, nameLens: nameLensFromIds(tokenIds, d.spec.nCtx), position: 'end' });
    const t = await tcpTextFeatures(cfg, ctx(), fx.f32('new_hand_written'), tower);
    expect(report('cpu tcp new-class features', relErr(t, fx.f32('new_text_features')))).toBeLessThan(1e-4);
  });

  it('the same step with the WASM SIMD kernels (the app’s CPU engine)', async () => {
    const kern = await WasmKernels.create({ threads: 1 });
    try {
      const r = await tcpLossAndGrad(cfg, ctx(), d.imageFeatures, d.labels, makeCpuTowerStep(w, d.spec, kern, (f) => kern.run(f)));
      expect(report('wasm tcp grad ctx', relErr(r.gradCtx, fx.f32('grad')))).toBeLessThan(1e-4);
      TCP_PARAM_NAMES.forEach((n, j) => expect(report(`wasm tcp grad ${n}`, relErr(r.gradExtras![j], fx.f32('grad_' + n))), n).toBeLessThan(1e-4));
    } finally {
      kern.destroy();
    }
  });
});
