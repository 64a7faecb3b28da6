/**
 * The tower step (per-row context, deep tokens, host feature loss) on the WASM SIMD kernels against the same
 * composition on the JavaScript twins, including the chunked path (classes past the activation budget recomputed
 * for backward) with per-row deep tokens, whose gradients must land in the right rows across chunks.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { towerStepCpu, type CpuTowerInput, type TowerPrompts } from '../../../src/engine/cpu-tower';
import type { TextConfig } from '../../../src/engine/model/text-weights';
import type { DeepTokens, FeatureLoss } from '../../../src/engine/tower';
import { WasmKernels } from '../../../src/engine/wasm/kernels';
import { f32, randn } from '../../helpers/random';
import { relErr, report } from '../../helpers/compare';
import { randomPrompts, randomTextWeights } from '../random-model';

const ragged: TextConfig = { D: 30, L: 3, H: 3, V: 40, E: 22, F: 120, P: 24, eps: 1e-5 };
const kern = await WasmKernels.create({ threads: 2 });
afterAll(() => kern.destroy());

function linearLoss(R: number, E: number): FeatureLoss {
  const c = randn(R * E, 5, 1);
  return (txt) => ({ loss: txt.reduce((s, v, i) => s + v * c[i], 0), dTxt: Float32Array.from(c) });
}

describe('WASM tower step vs the JavaScript reference (ragged tower, fp32)', () => {
  const w = randomTextWeights(ragged, 9, true);
  kern.adoptWeights(w);
  const K = 5;
  const M = 4;
  const cases = [
    { name: 'per-row context, repeat 3', repeat: 3, ctxPerRow: true, deep: [] as { block: number; M: number; perRow: boolean }[] },
    { name: 'shared deep tokens at blocks 1 and 2', repeat: 1, ctxPerRow: false, deep: [{ block: 1, M: 4, perRow: false }, { block: 2, M: 4, perRow: false }] },
    { name: 'per-row deep tokens at block 2', repeat: 1, ctxPerRow: false, deep: [{ block: 2, M: 4, perRow: true }] },
  ];
  for (const budget of [1 << 30, 1]) {
    for (const c of cases) {
      it(`${c.name}${budget === 1 ? ', one row per chunk' : ''}: features, d ctx and d tokens within 1e-4`, () => {
        const spec = randomPrompts(ragged, K, M, false, 'end');
        const prompts: TowerPrompts = { tokenIds: spec.tokenIds, nameLens: spec.nameLens, position: 'end' };
        const R = K * c.repeat;
        const deep: DeepTokens[] = c.deep.map((d, i) => ({ block: d.block, perRow: d.perRow, tokens: f32(randn((d.perRow ? R : 1) * d.M * ragged.D, 30 + i, 0.3)) }));
        const input: CpuTowerInput = { ctx: f32(randn((c.ctxPerRow ? R : 1) * M * ragged.D, 3, 0.3)), repeat: c.repeat, ctxPerRow: c.ctxPerRow, deep, featureLoss: linearLoss(R, ragged.E) };
        const want = towerStepCpu(w, prompts, input);
        const keep = kern.activationBudget;
        kern.activationBudget = budget;
        try {
          const got = kern.run(() => {
            const r = towerStepCpu(w, prompts, input, kern);
            return { txt: Float32Array.from(r.textFeatures), g: Float32Array.from(r.gradCtx!), d: r.gradDeep!.map((x) => Float32Array.from(x)), chunks: r.chunks };
          });
          if (budget === 1) expect(got.chunks).toBe(R);
          const tag = `wasm tower ${c.name} (${got.chunks} chunks)`;
          expect(report(`${tag} features`, relErr(got.txt, want.textFeatures))).toBeLessThan(1e-4);
          expect(report(`${tag} d ctx`, relErr(got.g, want.gradCtx!))).toBeLessThan(1e-4);
          got.d.forEach((g, i) => expect(report(`${tag} d tokens block ${deep[i].block}`, relErr(g, want.gradDeep![i]))).toBeLessThan(1e-4));
        } finally {
          kern.activationBudget = keep;
        }
      });
    }
  }
});
