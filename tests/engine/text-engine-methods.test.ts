/**
 * KgCoOp and ProGrad on the WGSL engine (Node Dawn): the method's term added in the loss pass, against PyTorch and
 * against the CPU twin. Few cases: each step costs seconds on SwiftShader (the CPU twin covers every dump).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { coopStepCpu } from '../../src/engine/cpu-text-encoder';
import { promptLayout } from '../../src/engine/prompt';
import { createTextEngine } from '../../src/engine/text-engine';
import { methodLossAndGrad, type EngineStepFn } from '../../src/coop/prompt-methods';
import { relErr } from '../helpers/compare';
import { loadFixture } from '../helpers/fixture';
import { getTestDevice, GPU_ENV_HINT } from '../helpers/webgpu';
import { toyClipWeights } from './dumps';
import { methodDumpFromFixture } from './method-dump-spec';

const device = await getTestDevice();
if (!device) console.warn(`WGSL method tests skipped. ${GPU_ENV_HINT}`);

describe.skipIf(!device)('WGSL engine: KgCoOp and ProGrad vs PyTorch and the CPU twin', { timeout: 600_000 }, () => {
  const w = toyClipWeights();
  const engine = device ? createTextEngine(device, w) : undefined!;
  afterAll(() => engine?.destroy());
  // ProGrad unified-end is the dump whose gradients conflict (the projection applies) and runs both of the step's
  // upstream gradients (CE, and the KL's formed from the step's logits) through one forward, the shared prefix's
  // second accumulation included. KgCoOp CSC-middle (the term added to the CE's, class name between two context
  // halves, one context set per class) and ProGrad CSC-middle (the second gradient's per-class context copy) cost
  // another minute each on a loaded SwiftShader, so they run with COOP_DAWN_FULL=1.
  const full = typeof process !== 'undefined' && process.env.COOP_DAWN_FULL === '1';
  for (const file of [...(full ? ['methods/kgcoop-csc-middle.bin', 'methods/prograd-csc-middle.bin'] : []), 'methods/prograd-unified-end.bin']) {
    it(`${file}: loss, logits and the SGD step's gradient`, async () => {
      const d = methodDumpFromFixture(loadFixture(file));
      const gpuStep: EngineStepFn = (ctx, imageFeatures, labels, textGrad, secondGrad) =>
        engine.step({ ctx: ctx.data, tokenIds: d.spec.tokenIds, nameLens: d.spec.nameLens, csc: d.spec.csc, position: d.spec.position, imageFeatures, labels, logitScale: d.logitScale, textGrad, secondGrad });
      const layout = promptLayout(d.spec, w.config.V);
      const cpuStep: EngineStepFn = (ctx, imageFeatures, labels, textGrad, secondGrad) => {
        const r = coopStepCpu(w, { layout, ctx: ctx.data, imageFeatures, labels, logitScale: d.logitScale, textGrad, secondGrad });
        return { loss: r.loss, logits: Float32Array.from(r.logits), gradCtx: Float32Array.from(r.gradCtx), textFeatures: r.textFeatures, ...(r.gradCtx2 ? { gradCtx2: Float32Array.from(r.gradCtx2) } : {}) };
      };
      const gpu = await methodLossAndGrad(d.cfg, gpuStep)(d.context, d.imageFeatures, d.labels);
      const cpu = await methodLossAndGrad(d.cfg, cpuStep)(d.context, d.imageFeatures, d.labels);
      const wantLoss = d.fx.f32('loss')[0];
      const e = {
        loss: Math.abs(gpu.loss - wantLoss) / Math.abs(wantLoss),
        grad: relErr(gpu.gradCtx, d.fx.f32('grad')),
        logits: relErr(gpu.logits, d.fx.f32('logits')),
        gradVsCpu: relErr(gpu.gradCtx, cpu.gradCtx),
      };
      console.log(`[tol] wgsl ${file}: loss ${e.loss.toExponential(2)} grad ${e.grad.toExponential(2)} logits ${e.logits.toExponential(2)}; grad vs CPU twin ${e.gradVsCpu.toExponential(2)}`);
      expect(e.loss).toBeLessThan(1e-4);
      expect(e.grad).toBeLessThan(1e-4);
      expect(e.logits).toBeLessThan(1e-4);
      expect(e.gradVsCpu).toBeLessThan(1e-4);
      if (file === 'methods/prograd-unified-end.bin') expect(gpu.terms!.projected).toBe(1);
    });
  }
});
