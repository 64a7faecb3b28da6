import { describe, expect, it } from 'vitest';
import { coopStepCpu } from '../../src/engine/cpu-text-encoder';
import { towerStepCpu, type CpuTowerInput, type TowerPrompts } from '../../src/engine/cpu-tower';
import { promptLayout } from '../../src/engine/prompt';
import type { TextConfig } from '../../src/engine/model/text-weights';
import type { DeepTokens, FeatureLoss } from '../../src/engine/tower';
import { randn } from '../helpers/random';
import { relErr, report } from '../helpers/compare';
import { randomImages, randomPrompts, randomTextWeights } from './random-model';

const cfg: TextConfig = { D: 8, L: 3, H: 2, V: 12, E: 6, F: 16, P: 16, eps: 1e-5 };
const w = randomTextWeights(cfg, 5);
const K = 3;
const M = 3;

/** A fixed nonlinear functional of the rows' normalized features: Σ c·t + ½ Σ t², so every row matters. */
function testLoss(R: number): FeatureLoss {
  const c = randn(R * cfg.E, 99, 1);
  return (txt) => {
    let loss = 0;
    const d = new Float64Array(txt.length);
    for (let i = 0; i < txt.length; i++) {
      loss += c[i] * txt[i] + 0.5 * txt[i] * txt[i];
      d[i] = c[i] + txt[i];
    }
    return { loss, dTxt: d };
  };
}

/** The loss in Float64 with the features as computed (FeatureLoss sees Float32, so FD goes through the f64 features). */
function lossOf(prompts: TowerPrompts, input: CpuTowerInput, R: number): number {
  const r = towerStepCpu(w, prompts, { ...input, featureLoss: undefined });
  const c = randn(R * cfg.E, 99, 1);
  let loss = 0;
  for (let i = 0; i < r.textFeatures.length; i++) loss += c[i] * r.textFeatures[i] + 0.5 * r.textFeatures[i] ** 2;
  return loss;
}

function fd(prompts: TowerPrompts, input: CpuTowerInput, R: number, x: Float64Array): Float64Array {
  const eps = 1e-6;
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const keep = x[i];
    x[i] = keep + eps;
    const lp = lossOf(prompts, input, R);
    x[i] = keep - eps;
    const lm = lossOf(prompts, input, R);
    x[i] = keep;
    out[i] = (lp - lm) / (2 * eps);
  }
  return out;
}

describe('tower step on the CPU: finite differences (Float64, random 3-block tower)', () => {
  const cases: { name: string; position: 'end' | 'middle' | 'front'; csc?: boolean; repeat?: number; ctxPerRow?: boolean; deep?: { block: number; M: number; perRow: boolean }[] }[] = [
    { name: 'shared context, shared deep tokens at blocks 1 and 2', position: 'end', deep: [{ block: 1, M: 2, perRow: false }, { block: 2, M: 3, perRow: false }] },
    { name: 'a context per row (repeat 2, CoCoOp)', position: 'end', repeat: 2, ctxPerRow: true },
    { name: 'per-row deep tokens at block 2 (TCP), middle', position: 'middle', deep: [{ block: 2, M: 2, perRow: true }] },
    { name: 'CSC repeated twice, shared deep tokens at block 1, front', position: 'front', csc: true, repeat: 2, deep: [{ block: 1, M: 1, perRow: false }] },
  ];
  for (const c of cases) {
    it(`${c.name}: d / d ctx and d / d tokens match central differences`, () => {
      const spec = randomPrompts(cfg, K, M, false, c.position);
      const prompts: TowerPrompts = { tokenIds: spec.tokenIds, nameLens: spec.nameLens, position: c.position };
      const repeat = c.repeat ?? 1;
      const R = K * repeat;
      const ctx = randn((c.ctxPerRow ? R : c.csc ? K : 1) * M * cfg.D, 21, 0.5);
      const deep: DeepTokens[] = (c.deep ?? []).map((d, i) => ({ block: d.block, perRow: d.perRow, tokens: randn((d.perRow ? R : 1) * d.M * cfg.D, 40 + i, 0.5) }));
      const input: CpuTowerInput = { ctx, csc: c.csc, repeat, ctxPerRow: c.ctxPerRow, deep };
      const r = towerStepCpu(w, prompts, { ...input, featureLoss: testLoss(R) });
      expect(r.rows).toBe(R);
      const e1 = report(`tower ${c.name} ctx vs FD`, relErr(r.gradCtx!, fd(prompts, input, R, ctx), 1e-8));
      expect(e1).toBeLessThan(1e-6);
      deep.forEach((d, i) => {
        const e = report(`tower ${c.name} block ${d.block} tokens vs FD`, relErr(r.gradDeep![i], fd(prompts, input, R, d.tokens as Float64Array), 1e-8));
        expect(e).toBeLessThan(1e-6);
      });
      if (c.deep?.some((d) => d.perRow)) expect(r.prefix).toBeLessThanOrEqual(1);
    });
  }

  it('tokens over the context at every block from 1 leave it a gradient through block 0 only, as FD says', () => {
    const spec = randomPrompts(cfg, K, M, false, 'end');
    const prompts: TowerPrompts = { tokenIds: spec.tokenIds, nameLens: spec.nameLens, position: 'end' };
    const ctx = randn(M * cfg.D, 3, 0.5);
    // Context positions 1..M are replaced at block 1: they reach the loss only through block 0's keys/values. With
    // every block from 1 replacing them, block 0's output at those positions is discarded, but block 0's attention
    // still mixes them into later positions: the gradient is smaller, not zero. Check it against FD instead.
    const deep: DeepTokens[] = [1, 2].map((b) => ({ block: b, perRow: false, tokens: randn(M * cfg.D, b, 0.5) }));
    const r = towerStepCpu(w, prompts, { ctx, deep, featureLoss: testLoss(K) });
    expect(relErr(r.gradCtx!, fd(prompts, { ctx, deep }, K, ctx), 1e-8)).toBeLessThan(1e-6);
  });
});

describe('tower step = CoOp step when it carries CoOp', () => {
  for (const csc of [false, true]) {
    for (const position of ['end', 'middle', 'front'] as const) {
      it(`${csc ? 'CSC' : 'unified'} ${position}: the host CE through the tower step gives the CoOp step's loss and gradient`, () => {
        const spec = randomPrompts(cfg, K, M, csc, position);
        const { imageFeatures, labels } = randomImages(5, cfg.E, K);
        const ctx = randn((csc ? K : 1) * M * cfg.D, 8, 0.5);
        const coop = coopStepCpu(w, { layout: promptLayout(spec, cfg.V), ctx, imageFeatures, labels, logitScale: 5 }, 'fast');
        const ce: FeatureLoss = (txt) => {
          const N = labels.length;
          const E = cfg.E;
          let loss = 0;
          const d = new Float64Array(K * E);
          for (let n = 0; n < N; n++) {
            const z = Array.from({ length: K }, (_, k) => 5 * imageFeatures.subarray(n * E, (n + 1) * E).reduce((s, v, e) => s + v * txt[k * E + e], 0));
            const m = Math.max(...z);
            const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
            loss += (lse - z[labels[n]]) / N;
            for (let k = 0; k < K; k++) {
              const g = (Math.exp(z[k] - lse) - (k === labels[n] ? 1 : 0)) / N;
              for (let e = 0; e < E; e++) d[k * E + e] += 5 * g * imageFeatures[n * E + e];
            }
          }
          return { loss, dTxt: d };
        };
        const r = towerStepCpu(w, { tokenIds: spec.tokenIds, nameLens: spec.nameLens, position }, { ctx, csc, featureLoss: ce });
        // The feature loss sees Float32 features: agreement to single precision.
        expect(Math.abs(r.loss - coop.loss)).toBeLessThan(1e-6);
        expect(report(`tower step with the CE vs CoOp step ${csc ? 'csc' : 'unified'}-${position} grad`, relErr(r.gradCtx!, coop.gradCtx))).toBeLessThan(1e-5);
        const fwd = towerStepCpu(w, { tokenIds: spec.tokenIds, nameLens: spec.nameLens, position }, { ctx, csc });
        expect(relErr(fwd.textFeatures, coop.textFeatures)).toBeLessThan(1e-12);
        expect(fwd.gradCtx).toBeUndefined();
      });
    }
  }
});
