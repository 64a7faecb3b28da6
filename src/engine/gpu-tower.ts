/**
 * The tower step (tower.ts) on the WGSL engine: the R = repeat × K rows become the step's prompts (a context per
 * row is the CSC path over R rows), the deep tokens and the host feature loss go to the engine's step as they are.
 */
import type { TextEngine } from './text-engine';
import { towerRows, type TowerPrompts, type TowerStepFn, type TowerStepInput, type TowerStepResult } from './tower';

export async function towerStepGpu(engine: TextEngine, prompts: TowerPrompts, input: TowerStepInput): Promise<TowerStepResult> {
  const tr = towerRows(prompts, input, engine.config.D);
  const r = await engine.step({
    ctx: tr.ctx,
    tokenIds: tr.tokenIds,
    nameLens: tr.nameLens,
    csc: tr.csc,
    position: prompts.position,
    imageFeatures: new Float32Array(0),
    labels: [],
    logitScale: 1,
    deep: input.deep,
    featureLoss: input.featureLoss,
    forwardOnly: !input.featureLoss,
  });
  const textFeatures = r.textFeatures!;
  if (!input.featureLoss) return { loss: 0, textFeatures };
  return {
    loss: r.loss,
    textFeatures,
    ...(r.logits.length ? { logits: r.logits } : {}),
    gradCtx: tr.foldGrad(Float32Array.from(r.gradCtx)),
    gradDeep: r.gradDeep ?? [],
  };
}

export function makeGpuTowerStep(engine: TextEngine, prompts: TowerPrompts): TowerStepFn {
  return (input) => towerStepGpu(engine, prompts, input);
}
