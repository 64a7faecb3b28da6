/**
 * TCP and DePT on the WGSL engine's tower step (Node Dawn) against the PyTorch dumps (tools/toy-clip/tcp_dept_dumps.py).
 * One case by default: a toy-CLIP step costs seconds on SwiftShader (TCP's ~11 s with the pipelines' compilation), and
 * the CPU tower covers every dump (tcp.test.ts, dept.test.ts). TCP exercises per-row class tokens at block 3. DePT's
 * step is a plain tower step with a host loss (no deep tokens); its two cases (~4 s each, measured within 1.1e-6)
 * run with COOP_DAWN_FULL=1.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { ContextVectors } from '../../src/coop/context-init';
import { DEPT_PARAM_NAMES, deptLossAndGrad, initDept, type DeptConfig } from '../../src/coop/dept';
import { initTcpMetaNet, tcpLossAndGrad, TCP_PARAM_NAMES, type TcpConfig } from '../../src/coop/tcp';
import { makeGpuTowerStep } from '../../src/engine/gpu-tower';
import { createTextEngine } from '../../src/engine/text-engine';
import { relErr, report } from '../helpers/compare';
import { loadFixture } from '../helpers/fixture';
import { getTestDevice, GPU_ENV_HINT } from '../helpers/webgpu';
import { dumpFromFixture } from '../engine/dump-spec';
import { toyClipWeights } from '../engine/dumps';

const device = await getTestDevice();
if (!device) console.warn(`WGSL TCP/DePT tests skipped. ${GPU_ENV_HINT}`);

describe.skipIf(!device)('WGSL tower: TCP and DePT vs PyTorch', { timeout: 600_000 }, () => {
  const w = toyClipWeights();
  const engine = device ? createTextEngine(device, w) : undefined!;
  afterAll(() => engine?.destroy());
  const full = typeof process !== 'undefined' && process.env.COOP_DAWN_FULL === '1';

  it('TCP: loss, logits, the context gradient and every MLP gradient within 1e-4', async () => {
    const d = dumpFromFixture(loadFixture('methods/tcp-unified-end.bin'));
    const fx = d.fx;
    const [K, E] = fx.shape('hand_written');
    const D = w.config.D;
    const cfg: TcpConfig = { nClasses: K, dim: E, tokenDim: D, logitScale: d.logitScale, weight: fx.meta.tcp_weight as number, block: fx.meta.tcp_block as number, handWritten: fx.f32('hand_written') };
    const ctx: ContextVectors = { data: d.ctx, nCtx: d.spec.nCtx, dim: D, cscClasses: 0, extras: initTcpMetaNet({ dim: E, tokenDim: D, seed: 1 }).map((p) => ({ ...p, data: fx.f32(p.name).slice() })) };
    const r = await tcpLossAndGrad(cfg, ctx, d.imageFeatures, d.labels, makeGpuTowerStep(engine, d.spec));
    expect(report('wgsl tcp loss', Math.abs(r.loss - (fx.meta.loss as number)) / (fx.meta.loss as number))).toBeLessThan(1e-4);
    expect(report('wgsl tcp logits', relErr(r.logits, fx.f32('logits')))).toBeLessThan(1e-4);
    expect(report('wgsl tcp grad ctx', relErr(r.gradCtx, fx.f32('grad')))).toBeLessThan(1e-4);
    TCP_PARAM_NAMES.forEach((n, j) => expect(report(`wgsl tcp grad ${n}`, relErr(r.gradExtras![j], fx.f32('grad_' + n))), n).toBeLessThan(1e-4));
  });

  for (const base of full ? (['coop', 'kgcoop'] as const) : []) {
    it(`DePT on ${base}: loss, fused logits, the context gradient and every DePT gradient within 1e-4`, async () => {
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
      const ctx: ContextVectors = { data: d.ctx, nCtx: d.spec.nCtx, dim: w.config.D, cscClasses: 0, extras: initDept({ dim: E, nClasses: K, seed: 1 }).map((p) => ({ ...p, data: fx.f32(p.name).slice() })) };
      const r = await deptLossAndGrad(cfg, ctx, d.imageFeatures, d.labels, makeGpuTowerStep(engine, d.spec));
      expect(report(`wgsl dept-${base} loss`, Math.abs(r.loss - (fx.meta.loss as number)) / (fx.meta.loss as number))).toBeLessThan(1e-4);
      expect(report(`wgsl dept-${base} logits`, relErr(r.logits, fx.f32('logits')))).toBeLessThan(1e-4);
      expect(report(`wgsl dept-${base} grad ctx`, relErr(r.gradCtx, fx.f32('grad')))).toBeLessThan(1e-4);
      DEPT_PARAM_NAMES.forEach((n, j) => expect(report(`wgsl dept-${base} grad ${n}`, relErr(r.gradExtras![j], fx.f32('grad_' + n))), n).toBeLessThan(1e-4));
    });
  }
});
