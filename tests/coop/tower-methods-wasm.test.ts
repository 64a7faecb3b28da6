/**
 * CoCoOp and deep language prompting against their PyTorch dumps (tools/toy-clip/tower_dumps.py) on the CPU
 * engine's WASM SIMD kernels. The JavaScript kernels' runs sit in cocoop.test.ts and deep-prompts.test.ts, the WGSL
 * engine's in tower-methods-wgsl.test.ts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cocoopLogits, cocoopLossAndGrad } from '../../src/coop/cocoop';
import { deepLossAndGrad, deepTextFeatures } from '../../src/coop/deep-prompts';
import { makeCpuTowerStep } from '../../src/engine/cpu-tower';
import type { TowerPrompts, TowerStepFn } from '../../src/engine/tower';
import { WasmKernels } from '../../src/engine/wasm/kernels';
import { relErr, report } from '../helpers/compare';
import { toyClipWeights } from '../engine/dumps';
import { loadTowerDump, type TowerDump } from './tower-dumps';

const w = toyClipWeights();
const kern = await WasmKernels.create({ threads: 2 });
kern.adoptWeights(w);
afterAll(() => kern.destroy());

const prompts = (d: TowerDump): TowerPrompts => ({ tokenIds: d.spec.tokenIds, nameLens: d.spec.nameLens, position: 'end' });

const engines: { name: string; skip: boolean; make: (d: TowerDump) => TowerStepFn }[] = [
  { name: 'wasm', skip: false, make: (d) => makeCpuTowerStep(w, prompts(d), kern, (f) => kern.run(f)) },
];

function lossErr(got: number, d: TowerDump): number {
  const want = d.fx.f32('loss')[0];
  return Math.abs(got - want) / Math.abs(want);
}

for (const e of engines) {
  describe.skipIf(e.skip)(`CoCoOp and deep prompting vs PyTorch on the ${e.name} tower step (toy-clip)`, { timeout: 120_000 }, () => {
    it('CoCoOp, K = 5, B = 3 (15 rows, a context each): loss, logits, d/d ctx and the Meta-Net gradients within 1e-4', async () => {
      const d = loadTowerDump('cocoop');
      const tower = e.make(d);
      const cfg = { nClasses: d.K, dim: d.E, logitScale: d.logitScale };
      const r = await cocoopLossAndGrad(cfg, d.context, d.imageFeatures, d.labels, tower);
      expect(report(`cocoop (${e.name}) loss`, lossErr(r.loss, d))).toBeLessThan(1e-4);
      expect(report(`cocoop (${e.name}) logits`, relErr(r.logits, d.fx.f32('logits')))).toBeLessThan(1e-4);
      expect(report(`cocoop (${e.name}) grad ctx`, relErr(r.gradCtx, d.fx.f32('grad')))).toBeLessThan(1e-4);
      d.context.extras!.forEach((p, i) => {
        expect(report(`cocoop (${e.name}) grad ${p.name}`, relErr(r.gradExtras![i], d.fx.f32(`grad.${p.name}`)))).toBeLessThan(1e-4);
      });
      const logits = await cocoopLogits({ ...cfg, evalRows: 10 }, d.context, d.imageFeatures, tower);
      expect(report(`cocoop (${e.name}) eval logits`, relErr(logits, d.fx.f32('logits')))).toBeLessThan(1e-4);
    });

    it('deep prompting, tokens at blocks 1–3: loss, logits, d/d ctx and every block’s token gradient within 1e-4', async () => {
      const d = loadTowerDump('deep');
      const tower = e.make(d);
      const cfg = { nClasses: d.K, dim: d.E, logitScale: d.logitScale };
      const r = await deepLossAndGrad(cfg, d.context, d.imageFeatures, d.labels, tower);
      expect(report(`deep (${e.name}) loss`, lossErr(r.loss, d))).toBeLessThan(1e-4);
      expect(report(`deep (${e.name}) logits`, relErr(r.logits, d.fx.f32('logits')))).toBeLessThan(1e-4);
      expect(report(`deep (${e.name}) grad ctx`, relErr(r.gradCtx, d.fx.f32('grad')))).toBeLessThan(1e-4);
      d.context.extras!.forEach((p, i) => {
        expect(report(`deep (${e.name}) grad ${p.name}`, relErr(r.gradExtras![i], d.fx.f32(`grad.${p.name}`)))).toBeLessThan(1e-4);
      });
      expect(report(`deep (${e.name}) text features`, relErr(await deepTextFeatures(cfg, d.context, tower), d.fx.f32('text_features')))).toBeLessThan(1e-4);
    });
  });
}
