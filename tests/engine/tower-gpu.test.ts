/**
 * The tower step on the WGSL engine (Node Dawn) against the CPU composition: a context per row, shared deep tokens
 * inside the shared prefix, per-row deep tokens across chunks (earlier chunks recomputed for backward), the naive
 * path, and forward only. A small random tower: SwiftShader runs it in well under a second a step.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { towerStepCpu } from '../../src/engine/cpu-tower';
import { towerStepGpu } from '../../src/engine/gpu-tower';
import { createTextEngine } from '../../src/engine/text-engine';
import type { TextConfig } from '../../src/engine/model/text-weights';
import type { DeepTokens, FeatureLoss, TowerPrompts } from '../../src/engine/tower';
import { f32, randn } from '../helpers/random';
import { relErr, report } from '../helpers/compare';
import { getTestDevice, GPU_ENV_HINT } from '../helpers/webgpu';
import { randomPrompts, randomTextWeights } from './random-model';

const device = await getTestDevice();
if (!device) console.warn(`WGSL tower tests skipped. ${GPU_ENV_HINT}`);

const cfg: TextConfig = { D: 32, L: 3, H: 4, V: 40, E: 24, F: 128, P: 24, eps: 1e-5 };

function linearLoss(R: number): FeatureLoss {
  const c = randn(R * cfg.E, 5, 1);
  return (txt) => ({ loss: txt.reduce((s, v, i) => s + v * c[i], 0), dTxt: Float32Array.from(c), logits: Float32Array.from([1, 2]) });
}

describe.skipIf(!device)('WGSL tower step vs the CPU composition', { timeout: 120_000 }, () => {
  const w = randomTextWeights(cfg, 4, true);
  const K = 4;
  const M = 4;
  const spec = randomPrompts(cfg, K, M, false, 'end');
  const prompts: TowerPrompts = { tokenIds: spec.tokenIds, nameLens: spec.nameLens, position: 'end' };
  const engines = new Map<string, ReturnType<typeof createTextEngine>>();
  const engine = (key: string, opts: Parameters<typeof createTextEngine>[2]) => {
    if (!engines.has(key)) engines.set(key, createTextEngine(device!, w, opts));
    return engines.get(key)!;
  };
  afterAll(() => engines.forEach((e) => e.destroy()));

  const cases = [
    { name: 'a context per row (repeat 3)', repeat: 3, ctxPerRow: true, deep: [] as { block: number; M: number; perRow: boolean }[], opts: {} },
    { name: 'shared deep tokens at blocks 1 and 2 (in the shared prefix)', repeat: 1, ctxPerRow: false, deep: [{ block: 1, M: 4, perRow: false }, { block: 2, M: 4, perRow: false }], opts: {} },
    { name: 'per-row deep tokens at block 2, one row per chunk', repeat: 1, ctxPerRow: false, deep: [{ block: 2, M: 4, perRow: true }], opts: { chunk: 1 } },
    { name: 'shared deep tokens, naive path', repeat: 2, ctxPerRow: true, deep: [{ block: 1, M: 2, perRow: false }], opts: { mode: 'naive' as const } },
  ];
  for (const c of cases) {
    it(`${c.name}: features, d ctx and d tokens within 1e-4`, async () => {
      const R = K * c.repeat;
      const deep: DeepTokens[] = c.deep.map((d, i) => ({ block: d.block, perRow: d.perRow, tokens: f32(randn((d.perRow ? R : 1) * d.M * cfg.D, 30 + i, 0.3)) }));
      const input = { ctx: f32(randn((c.ctxPerRow ? R : 1) * M * cfg.D, 3, 0.3)), repeat: c.repeat, ctxPerRow: c.ctxPerRow, deep, featureLoss: linearLoss(R) };
      const want = towerStepCpu(w, prompts, input);
      const eng = engine(JSON.stringify(c.opts), c.opts);
      const got = await towerStepGpu(eng, prompts, input);
      const tag = `wgsl tower ${c.name} (${eng.lastStats!.chunks} chunks, prefix ${eng.lastStats!.prefix})`;
      expect(Math.abs(got.loss - want.loss)).toBeLessThan(1e-4 * Math.max(1, Math.abs(want.loss)));
      expect(Array.from(got.logits!)).toEqual([1, 2]);
      expect(report(`${tag} features`, relErr(got.textFeatures, want.textFeatures))).toBeLessThan(1e-4);
      expect(report(`${tag} d ctx`, relErr(got.gradCtx!, want.gradCtx!))).toBeLessThan(1e-4);
      expect(got.gradDeep!.length).toBe(deep.length);
      got.gradDeep!.forEach((g, i) => expect(report(`${tag} d tokens block ${deep[i].block}`, relErr(g, want.gradDeep![i]))).toBeLessThan(1e-4));
      if (c.deep.some((d) => d.perRow)) expect(eng.lastStats!.prefix).toBeLessThanOrEqual(1);
    });
  }

  it('forward only: the rows\' normalized features, no gradients', async () => {
    const input = { ctx: f32(randn(2 * K * M * cfg.D, 8, 0.3)), repeat: 2, ctxPerRow: true };
    const got = await towerStepGpu(engine('{}', {}), prompts, input);
    const want = towerStepCpu(w, prompts, input);
    expect(got.gradCtx).toBeUndefined();
    expect(report('wgsl tower forward only', relErr(got.textFeatures, want.textFeatures))).toBeLessThan(1e-4);
  });
});
