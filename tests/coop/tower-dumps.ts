/**
 * The CoCoOp and deep-prompting reference dumps (tools/toy-clip/tower_dumps.py) as the host-side methods take
 * them, and a tower step for the CoCoOp case built from the CPU twin's CoOp step, image by image (usable before
 * the engines run per-row context themselves: CoCoOp's K rows of one image share their context, so image b's
 * rows are one unified CoOp prompt set with context ctx + π_b).
 */
import type { ContextVectors, NamedParam } from '../../src/coop/context-init';
import { META_NET_NAMES } from '../../src/coop/cocoop';
import { deepPromptName } from '../../src/coop/deep-prompts';
import { coopStepCpu } from '../../src/engine/cpu-text-encoder';
import type { TextWeights } from '../../src/engine/model/text-weights';
import type { PromptLayout } from '../../src/engine/prompt';
import type { TowerStepFn } from '../../src/engine/tower';
import { loadFixture } from '../helpers/fixture';
import { dumpFromFixture, type Dump } from '../engine/dump-spec';

export interface TowerDump extends Dump {
  context: ContextVectors;
  K: number;
  E: number;
}

function param(fx: Dump['fx'], tensor: string, name: string): NamedParam {
  return { name, shape: [...fx.shape(tensor)], data: fx.f32(tensor).slice() };
}

export function loadTowerDump(method: 'cocoop' | 'deep'): TowerDump {
  const d = dumpFromFixture(loadFixture(`methods/${method}-unified-end.bin`));
  const [K] = d.fx.shape('token_ids');
  const E = d.imageFeatures.length / d.labels.length;
  const D = d.ctx.length / d.spec.nCtx;
  const extras =
    method === 'cocoop'
      ? META_NET_NAMES.map((n) => param(d.fx, n, n))
      : (d.fx.meta.deep_blocks as number[]).map((b) => param(d.fx, `deep_ctx.${b}`, deepPromptName(b)));
  return { ...d, K, E, context: { data: d.ctx.slice(), nCtx: d.spec.nCtx, dim: D, cscClasses: 0, extras } };
}

/** A TowerStepFn for shared context or per-row context whose K rows per image agree (CoCoOp), on coopStepCpu. */
export function coopStepTower(w: TextWeights, layout: PromptLayout): TowerStepFn {
  const { D, E } = w.config;
  const K = layout.K;
  const M = layout.M;
  const dummy = { imageFeatures: new Float32Array(E), labels: Int32Array.from([0]), logitScale: 1 };
  return async (input) => {
    if (input.deep?.length || input.csc) throw new Error('coopStepTower: no deep tokens or CSC');
    const B = input.repeat ?? 1;
    const ctxOf = (b: number) => (input.ctxPerRow ? input.ctx.subarray(b * K * M * D, (b * K + 1) * M * D) : input.ctx);
    const txt = new Float32Array(B * K * E);
    for (let b = 0; b < B; b++) {
      const rows = input.ctxPerRow ? input.ctx.subarray(b * K * M * D, (b + 1) * K * M * D) : null;
      for (let k = 1; rows && k < K; k++) {
        for (let i = 0; i < M * D; i++) if (rows[k * M * D + i] !== rows[i]) throw new Error('coopStepTower: the rows of one image must share their context');
      }
      txt.set(coopStepCpu(w, { layout, ctx: ctxOf(b), ...dummy }).textFeatures as Float32Array, b * K * E);
    }
    if (!input.featureLoss) return { loss: 0, textFeatures: txt };
    const { loss, dTxt, logits } = input.featureLoss(txt);
    const gradCtx = new Float32Array(input.ctx.length);
    for (let b = 0; b < B; b++) {
      const add = Float32Array.from(Array.prototype.slice.call(dTxt, b * K * E, (b + 1) * K * E) as number[]);
      const g = coopStepCpu(w, { layout, ctx: ctxOf(b), ...dummy, textGrad: { add, replace: true } }).gradCtx;
      // The image's whole gradient on its first row; the others' zero (the sum over rows is what a row-shared context sees).
      if (input.ctxPerRow) gradCtx.set(g, b * K * M * D);
      else for (let i = 0; i < g.length; i++) gradCtx[i] += g[i];
    }
    return { loss, logits, textFeatures: txt, gradCtx };
  };
}
