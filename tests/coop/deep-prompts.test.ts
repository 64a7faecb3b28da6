import { describe, expect, it } from 'vitest';
import type { ContextVectors } from '../../src/coop/context-init';
import {
  DEEP_PROMPT_DEFAULTS,
  deepLogits,
  deepLossAndGrad,
  deepPromptBlocks,
  deepTextFeatures,
  deepTokensFromExtras,
  initDeepPrompts,
} from '../../src/coop/deep-prompts';
import { featureCrossEntropy } from '../../src/coop/feature-ce';
import { randn } from '../helpers/random';
import { relErr, report } from '../helpers/compare';
import { fakeTower, fdGrad } from './fake-tower';
import { loadTowerDump } from './tower-dumps';
import { toyClipWeights } from '../engine/dumps';
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

describe('deep language prompting: blocks and init', () => {
  it('PROMPT_DEPTH_TEXT = 12 on 12 blocks gives blocks 1..11; the toy’s 4 blocks give 1..3; depth 1 is CoOp', () => {
    expect(deepPromptBlocks(12, DEEP_PROMPT_DEFAULTS.depth)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(deepPromptBlocks(4)).toEqual([1, 2, 3]);
    expect(deepPromptBlocks(4, 12)).toEqual([1, 2, 3]);
    expect(deepPromptBlocks(12, 3)).toEqual([1, 2]);
    expect(deepPromptBlocks(12, 1)).toEqual([]);
    expect(() => deepPromptBlocks(12, 0)).toThrow(/positive/);
  });

  it('draws one N(0, 0.02²) [M, D] per block, named deep_ctx.{block}, each block from its own stream', () => {
    const p = initDeepPrompts({ nCtx: 4, dim: 512, blocks: [1, 2, 3], seed: 5 });
    expect(p.map((x) => x.name)).toEqual(['deep_ctx.1', 'deep_ctx.2', 'deep_ctx.3']);
    expect(p.map((x) => x.shape)).toEqual([[4, 512], [4, 512], [4, 512]]);
    const all = p.flatMap((x) => Array.from(x.data));
    const sd = Math.sqrt(all.reduce((s, v) => s + v * v, 0) / all.length);
    expect(sd).toBeGreaterThan(0.019);
    expect(sd).toBeLessThan(0.021);
    expect(initDeepPrompts({ nCtx: 4, dim: 512, blocks: [2], seed: 5 })[0].data).toEqual(p[1].data);
    expect(p[0].data).not.toEqual(p[1].data);
  });

  it('reads the extras as shared deep tokens and refuses strangers', () => {
    const p = initDeepPrompts({ nCtx: 2, dim: 3, blocks: [2, 5], seed: 1 });
    const d = deepTokensFromExtras(p, 3);
    expect(d.map((x) => [x.block, x.perRow, x.tokens])).toEqual([[2, false, p[0].data], [5, false, p[1].data]]);
    expect(() => deepTokensFromExtras([{ name: 'meta_net.linear1.bias', shape: [3], data: new Float32Array(3) }], 3)).toThrow(/not a block/);
    expect(() => deepTokensFromExtras([{ name: 'deep_ctx.0', shape: [2, 3], data: new Float32Array(6) }], 3)).toThrow(/not a block/);
    expect(() => deepTokensFromExtras(p, 4)).toThrow(/expected \[M, 4\]/);
    expect(() => deepTokensFromExtras(undefined, 3)).toThrow(/no deep tokens/);
  });
});

describe('deep language prompting step through a tower (fake tower)', () => {
  const K = 4, M = 2, D = 3, E = 6, L = 4, B = 5;
  const scale = 9;
  const cfg = { nClasses: K, dim: E, logitScale: scale };

  function context(csc: boolean): ContextVectors {
    const extras = initDeepPrompts({ nCtx: M, dim: D, blocks: deepPromptBlocks(L), seed: 3, std: 0.5 });
    return { data: Float32Array.from(randn((csc ? K : 1) * M * D, 8, 0.5)), nCtx: M, dim: D, cscClasses: csc ? K : 0, extras };
  }

  for (const csc of [false, true]) {
    it(`${csc ? 'CSC' : 'unified'}: one step with every block's shared tokens; gradients match central differences of its loss`, async () => {
      const ctx = context(csc);
      const features = unitRows(B, E, 9);
      const labels = Int32Array.from([0, 3, 1, 2, 3]);
      const t = fakeTower({ K, M, D, E, L });
      const r = await deepLossAndGrad(cfg, ctx, features, labels, t.step);
      expect(t.calls).toHaveLength(1);
      expect(t.calls[0].csc).toBe(csc);
      expect(t.calls[0].repeat ?? 1).toBe(1);
      expect(t.calls[0].deep!.map((d) => d.block)).toEqual([1, 2, 3]);
      expect(r.gradExtras).toHaveLength(3);
      // The loss is the CE of scale·f·tᵀ over the K class rows.
      const txt = await deepTextFeatures(cfg, ctx, t.step);
      const ce = featureCrossEntropy(features, txt, labels, { B, K, E, scale, R: K, row: (_b, k) => k });
      expect(r.loss).toBeCloseTo(ce.loss, 5);
      expect(relErr(await deepLogits(cfg, ctx, features, t.step), r.logits)).toBeLessThan(1e-6);
      const loss = async () => (await deepLossAndGrad(cfg, ctx, features, labels, t.step)).loss;
      expect(report(`deep ${csc ? 'csc' : 'unified'} d/d ctx vs FD (fake tower)`, relErr(r.gradCtx, await fdGrad(ctx.data, loss)))).toBeLessThan(1e-5);
      for (let i = 0; i < 3; i++) {
        const p = ctx.extras![i];
        expect(report(`deep d/d ${p.name} vs FD (fake tower)`, relErr(r.gradExtras![i], await fdGrad(p.data, loss)))).toBeLessThan(1e-5);
      }
    });
  }
});

describe('deep language prompting vs PyTorch through the tower step (makeCpuTowerStep, JavaScript kernels)', () => {
  it('context [4, 128] and tokens at blocks 1–3: loss, logits, d/d ctx and every block’s token gradient within 1e-4', async () => {
    const w = toyClipWeights();
    const d = loadTowerDump('deep');
    const tower = makeCpuTowerStep(w, { tokenIds: d.spec.tokenIds, nameLens: d.spec.nameLens, position: 'end' });
    const cfg = { nClasses: d.K, dim: d.E, logitScale: d.logitScale };
    const r = await deepLossAndGrad(cfg, d.context, d.imageFeatures, d.labels, tower);
    const lossErr = Math.abs(r.loss - d.fx.f32('loss')[0]) / d.fx.f32('loss')[0];
    expect(report('deep (cpu tower) loss', lossErr)).toBeLessThan(1e-4);
    expect(report('deep (cpu tower) logits', relErr(r.logits, d.fx.f32('logits')))).toBeLessThan(1e-4);
    expect(report('deep (cpu tower) grad ctx', relErr(r.gradCtx, d.fx.f32('grad')))).toBeLessThan(1e-4);
    expect(d.context.extras!.map((p) => p.name)).toEqual(['deep_ctx.1', 'deep_ctx.2', 'deep_ctx.3']);
    d.context.extras!.forEach((p, i) => {
      expect(report(`deep (cpu tower) grad ${p.name}`, relErr(r.gradExtras![i], d.fx.f32(`grad.${p.name}`)))).toBeLessThan(1e-4);
    });
    expect(report('deep (cpu tower) text features', relErr(await deepTextFeatures(cfg, d.context, tower), d.fx.f32('text_features')))).toBeLessThan(1e-4);
  });
});
