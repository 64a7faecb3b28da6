/**
 * The tower step (tower.ts) on the CPU composition: R = repeat × K prompt rows with a shared, per-class or per-row
 * context, deep tokens between blocks, and a host feature loss, through encoderLossCpu with either kernel set (the
 * JavaScript twins, Float64 when ctx is, or the WASM SIMD kernels).
 */
import { encoderLossCpu, pathLengths } from './cpu-text-encoder';
import { referenceKernels, type CpuKernels } from './ops/kernels';
import { like, type Arr } from './ops/tensor';
import type { TextWeights } from './model/text-weights';
import { assembleEmbeddings, promptLayout, scatterContextGrad, type ClassTokenPosition, type PromptLayout } from './prompt';
import type { DeepTokens, FeatureLoss, TowerStepFn, TowerStepInput, TowerStepResult } from './tower';

/** The prompts a tower step runs: per class, "X … X name." ids, the names' token counts and where the name goes. */
export interface TowerPrompts {
  tokenIds: ArrayLike<number>[];
  nameLens: ArrayLike<number>;
  position: ClassTokenPosition;
}

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

/** Rows, M and the layout of a tower step; the layout is cached by the caller per (repeat, context kind, M). */
export function towerLayout(prompts: TowerPrompts, input: { ctx: ArrayLike<number>; csc?: boolean; repeat?: number; ctxPerRow?: boolean }, D: number, vocab: number): { layout: PromptLayout; rows: number; M: number } {
  const K = prompts.tokenIds.length;
  const repeat = input.repeat ?? 1;
  if (!(Number.isInteger(repeat) && repeat >= 1)) throw new Error(`tower step: repeat must be a whole number ≥ 1 (got ${repeat})`);
  const R = repeat * K;
  const per = input.ctxPerRow ? R : input.csc ? K : 1;
  const M = input.ctx.length / (per * D);
  if (!(Number.isInteger(M) && M >= 1)) throw new Error(`tower step: ctx has ${input.ctx.length} values, not ${per}·M·${D}`);
  // A context per class over repeated rows is handed to the engine as one per row (tiled), its gradient folded back.
  const csc = Boolean(input.ctxPerRow || input.csc);
  const tokenIds = Array.from({ length: R }, (_, r) => prompts.tokenIds[r % K]);
  const nameLens = Array.from({ length: R }, (_, r) => prompts.nameLens[r % K]);
  return { layout: promptLayout({ tokenIds, nameLens, nCtx: M, csc, position: prompts.position }, vocab), rows: R, M };
}

/** [K, M, D] → [repeat·K, M, D] (row b·K + k gets class k's context). */
function tileClasses(ctx: Arr, repeat: number): Arr {
  if (repeat === 1) return ctx;
  const out = like(ctx, ctx.length * repeat);
  for (let b = 0; b < repeat; b++) out.set(ctx, b * ctx.length);
  return out;
}

/** The sum over repeats of a per-row gradient [repeat·K, M, D] → [K, M, D]. */
function foldClasses(g: Arr, repeat: number): Arr {
  if (repeat === 1) return g;
  const n = g.length / repeat;
  const out = like(g, n);
  for (let b = 0; b < repeat; b++) for (let i = 0; i < n; i++) out[i] += g[b * n + i];
  return out;
}

export function towerStepCpu(w: TextWeights, prompts: TowerPrompts, input: CpuTowerInput, kern: CpuKernels = referenceKernels, cached?: PromptLayout): CpuTowerResult {
  const { D, V } = w.config;
  const repeat = input.repeat ?? 1;
  const { layout, rows } = cached ? { layout: cached, rows: cached.K } : towerLayout(prompts, input, D, V);
  const classCtx = Boolean(input.csc && !input.ctxPerRow);
  const ctxRows = classCtx ? tileClasses(input.ctx, repeat) : input.ctx;
  const { T, P: fullP } = pathLengths(layout, 'fast');
  // Rows whose deep tokens differ share only SOS: from position 1 on, their hidden states differ at that block.
  const P = input.deep?.some((d) => d.perRow) ? Math.min(fullP, 1) : fullP;
  const emb = assembleEmbeddings(layout, w.tokenEmbedding, ctxRows, D, T);
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
    gradCtx: classCtx ? foldClasses(g, repeat) : g,
    gradDeep: r.dDeep ?? [],
  };
}

/**
 * A TowerStepFn on the CPU composition for fixed prompts (the engine's setPrompts). With the WASM kernels, each step
 * runs inside `run` (the arena is reset around it), as CpuTextEngine does.
 */
export function makeCpuTowerStep(w: TextWeights, prompts: TowerPrompts, kern: CpuKernels = referenceKernels, run: <T>(f: () => T) => T = (f) => f()): TowerStepFn {
  let cache: { key: string; layout: PromptLayout } | undefined;
  return async (input: TowerStepInput): Promise<TowerStepResult> => {
    const { layout } = towerLayout(prompts, input, w.config.D, w.config.V);
    const key = `${layout.K}|${layout.M}|${layout.csc}`;
    if (cache?.key !== key) cache = { key, layout };
    const r = run(() => {
      const x = towerStepCpu(w, prompts, input, kern, cache!.layout);
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
