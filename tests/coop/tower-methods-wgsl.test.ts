/**
 * CoCoOp and deep language prompting against their PyTorch dumps (tools/toy-clip/tower_dumps.py) on the WGSL
 * engine's tower step (Node Dawn; skipped without a device). One training step each: on SwiftShader a step of the
 * toy model's 15 CoCoOp rows takes ~10 s on this shared machine, so the grouped evaluation is left to the CPU runs
 * (cocoop.test.ts), which score with the same host code.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cocoopLossAndGrad } from '../../src/coop/cocoop';
import { deepLossAndGrad } from '../../src/coop/deep-prompts';
import { makeGpuTowerStep } from '../../src/engine/gpu-tower';
import { createTextEngine, type TextEngine } from '../../src/engine/text-engine';
import type { LossAndGrad } from '../../src/coop/trainer';
import { relErr, report } from '../helpers/compare';
import { getTestDevice, GPU_ENV_HINT } from '../helpers/webgpu';
import { toyClipWeights } from '../engine/dumps';
import { loadTowerDump, type TowerDump } from './tower-dumps';

const device = await getTestDevice();
if (!device) console.warn(`WGSL CoCoOp / deep prompting parity skipped. ${GPU_ENV_HINT}`);

function check(tag: string, r: LossAndGrad, d: TowerDump): void {
  const want = d.fx.f32('loss')[0];
  expect(report(`${tag} loss`, Math.abs(r.loss - want) / Math.abs(want))).toBeLessThan(1e-4);
  expect(report(`${tag} logits`, relErr(r.logits, d.fx.f32('logits')))).toBeLessThan(1e-4);
  expect(report(`${tag} grad ctx`, relErr(r.gradCtx, d.fx.f32('grad')))).toBeLessThan(1e-4);
  expect(r.gradExtras).toHaveLength(d.context.extras!.length);
  d.context.extras!.forEach((p, i) => {
    expect(report(`${tag} grad ${p.name}`, relErr(r.gradExtras![i], d.fx.f32(`grad.${p.name}`)))).toBeLessThan(1e-4);
  });
}

describe.skipIf(!device)('CoCoOp and deep prompting vs PyTorch on the WGSL tower step (toy-clip)', { timeout: 180_000 }, () => {
  const w = toyClipWeights();
  let engine: TextEngine | undefined;
  afterAll(() => engine?.destroy());
  const tower = (d: TowerDump) => makeGpuTowerStep((engine ??= createTextEngine(device!, w, {})), { tokenIds: d.spec.tokenIds, nameLens: d.spec.nameLens, position: 'end' });

  it('CoCoOp, K = 5, B = 3 (15 rows, a context each): loss, logits, d/d ctx and the Meta-Net gradients within 1e-4', async () => {
    const d = loadTowerDump('cocoop');
    check('cocoop (wgsl)', await cocoopLossAndGrad({ nClasses: d.K, dim: d.E, logitScale: d.logitScale }, d.context, d.imageFeatures, d.labels, tower(d)), d);
  });

  it('deep prompting, tokens at blocks 1–3: loss, logits, d/d ctx and every block’s token gradient within 1e-4', async () => {
    const d = loadTowerDump('deep');
    check('deep (wgsl)', await deepLossAndGrad({ nClasses: d.K, dim: d.E, logitScale: d.logitScale }, d.context, d.imageFeatures, d.labels, tower(d)), d);
  });
});
