/**
 * The tower step (tower.ts) on the CPU composition: R = repeat × K prompt rows with a shared, per-class or per-row
 * context, deep tokens between blocks, and a host feature loss, through encoderLossCpu with either kernel set (the
 * JavaScript twins, Float64 when ctx is, or the WASM SIMD kernels).
 */
import { encoderLossCpu, pathLengths } from './cpu-text-encoder';
import { referenceKernels, type CpuKernels } from './ops/kernels';
import type { Arr } from './ops/tensor';
import type { TextWeights } from './model/text-weights';
import { assembleEmbeddings, promptLayout, scatterContextGrad } from './prompt';
import { towerPrefixCap, towerRows, type DeepTokens, type FeatureLoss, type TowerPrompts, type TowerStepFn, type TowerStepInput, type TowerStepResult } from './tower';

export type { TowerPrompts } from './tower';

/** What the CPU step takes: tower.ts's input, with Float64 allowed for finite-difference checks. */
export interface CpuTowerInput {
  ctx: Arr;
  csc?: boolean;
  repeat?: number;
  ctxPerRow?: boolean;
  deep?: DeepTokens[];
  featureLoss?: FeatureLoss;
}

export interface CpuTowerResult {
  loss: number;
  logits?: Float32Array;
  textFeatures: Arr;
  gradCtx?: Arr;
  gradDeep?: Arr[];
  /** Rows, positions run per row and shared prefix: what the step cost. */
  rows: number;
  T: number;
  prefix: number;
  chunks: number;
}

export function towerStepCpu(w: TextWeights, prompts: TowerPrompts, input: CpuTowerInput, kern: CpuKernels = referenceKernels): CpuTowerResult {
  const { D, V } = w.config;
  const tr = towerRows(prompts, input, D);
  const rows = tr.rows;
  const layout = promptLayout({ tokenIds: tr.tokenIds, nameLens: tr.nameLens, nCtx: tr.M, csc: tr.csc, position: prompts.position }, V);
  const { T, P: fullP } = pathLengths(layout, 'fast');
  const P = Math.min(fullP, towerPrefixCap(input.deep));
  const emb = assembleEmbeddings(layout, w.tokenEmbedding, tr.ctx, D, T);
  const r = encoderLossCpu(
    w,
    {
      embeddings: emb,
      K: rows,
      T,
      eos: layout.eos,
      prefix: P,
      imageFeatures: new Float32Array(0),
      labels: new Int32Array(0),
      logitScale: 1,
      deep: input.deep,
      featureLoss: input.featureLoss,
      forwardOnly: !input.featureLoss,
    },
    kern,
  );
  const base = { loss: r.loss, textFeatures: r.textFeatures, rows, T, prefix: P, chunks: r.chunks };
  if (!input.featureLoss) return base;
  const g = scatterContextGrad(layout, r.dEmbeddings, D, T);
  return {
    ...base,
    ...(r.logits.length ? { logits: Float32Array.from(r.logits) } : {}),
    gradCtx: tr.foldGrad(g),
    gradDeep: r.dDeep ?? [],
  };
}

/**
 * A TowerStepFn on the CPU composition for fixed prompts (the engine's setPrompts). With the WASM kernels, each step
 * runs inside `run` (the arena is reset around it), as CpuTextEngine does.
 */
export function makeCpuTowerStep(w: TextWeights, prompts: TowerPrompts, kern: CpuKernels = referenceKernels, run: <T>(f: () => T) => T = (f) => f()): TowerStepFn {
  return async (input: TowerStepInput): Promise<TowerStepResult> => {
    const r = run(() => {
      const x = towerStepCpu(w, prompts, input, kern);
      // Copied out of the kernels' memory before `run` releases it.
      return {
        loss: x.loss,
        logits: x.logits,
        textFeatures: Float32Array.from(x.textFeatures),
        gradCtx: x.gradCtx && Float32Array.from(x.gradCtx),
        gradDeep: x.gradDeep?.map((g) => Float32Array.from(g)),
      };
    });
    return { loss: r.loss, textFeatures: r.textFeatures, ...(r.logits ? { logits: r.logits } : {}), ...(r.gradCtx ? { gradCtx: r.gradCtx, gradDeep: r.gradDeep ?? [] } : {}) };
  };
}
