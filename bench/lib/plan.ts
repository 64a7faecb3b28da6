/**
 * The engine's planner, asked what the engine would do: the same chunk size the engine picks
 * by default (per path, from its activation budget), the same prompt lengths. The engine
 * allocates exactly the planner's buffers, so planned bytes at sizes too large to run are
 * what a real run would hold, and at sizes that do run the two are compared.
 */
import type { TextConfig } from '../../src/engine/model/text-weights';
import { chunkForBudget, DEFAULT_ACTIVATION_BUDGET, estimateLengths, planStep, type PathPlan } from '../../src/engine/plan';
import { promptLayout, sharedPrefixLength, usedLength, type ClassTokenPosition } from '../../src/engine/prompt';
import type { StepInput } from '../../src/engine/text-engine';
import { BATCH, modelShape, randomShapeConfig } from './shapes';
import type { BenchOptions, PlanRow } from './types';

/** The synthetic class names are 1–3 tokens, so the longest name in any batch of ≥ 3 classes is 3. */
export const LONGEST_NAME = 3;

export interface PromptLengths {
  /** Positions per class up to the last EOS, and the shared prefix. */
  T: number;
  P: number;
  prefixHasCtx?: boolean;
  suffixHasCtx?: boolean;
}

export interface BenchPlan {
  naive: PathPlan;
  fast: PathPlan;
  /** What the original computes: all 77·K positions, nothing recomputed. */
  flopsOriginal: number;
}

/** Both paths as the engine runs them; `chunks` overrides the engine's default chunk per path. */
export function enginePlan(
  cfg: TextConfig,
  K: number,
  M: number,
  csc: boolean,
  position: ClassTokenPosition,
  len?: PromptLengths,
  chunks: { naive?: number; fast?: number } = {},
): BenchPlan {
  const shape = modelShape(cfg);
  const { T, P } = len ?? estimateLengths(M, csc, position, Math.min(LONGEST_NAME, K));
  const base = { shape, K, M, csc, position, batch: BATCH, usedLength: T, prefixLength: P, prefixHasCtx: len?.prefixHasCtx, suffixHasCtx: len?.suffixHasCtx };
  const naive = planStep({ ...base, chunk: chunks.naive ?? chunkForBudget(shape, cfg.P, 0, DEFAULT_ACTIVATION_BUDGET) });
  const fast = planStep({ ...base, chunk: chunks.fast ?? chunkForBudget(shape, T, P, DEFAULT_ACTIVATION_BUDGET) });
  return { naive: naive.naive, fast: fast.fast, flopsOriginal: naive.flopsNaive };
}

/** Lengths from the real prompts, derived as the engine derives them from the layout. */
export function promptLengths(cfg: TextConfig, input: StepInput, M: number): PromptLengths {
  const layout = promptLayout({ tokenIds: input.tokenIds, nameLens: input.nameLens, nCtx: M, csc: input.csc, position: input.position }, cfg.V);
  const T = usedLength(layout);
  const P = sharedPrefixLength(layout);
  let prefixHasCtx = false;
  for (let p = 0; p < P; p++) if (layout.rows[p] >= layout.vocab) prefixHasCtx = true;
  let suffixHasCtx = false;
  for (let k = 0; k < layout.K && !suffixHasCtx; k++) {
    for (let t = P; t < T; t++) if (layout.rows[k * layout.T + t] >= layout.vocab) suffixHasCtx = true;
  }
  return { T, P, prefixHasCtx, suffixHasCtx };
}

export function plannedFastPositions(cfg: TextConfig, K: number, M: number): number {
  return enginePlan(cfg, K, M, false, 'end').fast.positions;
}

export function planRows(opts: BenchOptions): PlanRow[] {
  const cfg = randomShapeConfig('vit-b32');
  return opts.planKs.map((k) => {
    const p = enginePlan(cfg, k, opts.m, false, 'end');
    // All K classes in one chunk: no recomputation, more memory. The original keeps at least
    // the naive path's one-chunk activations (all 77·K positions).
    const one = enginePlan(cfg, k, opts.m, false, 'end', undefined, { naive: k, fast: k });
    return {
      shape: 'vit-b32',
      k,
      naive_positions: p.naive.positions,
      fast_positions: p.fast.positions,
      naive_gflop_per_step: p.flopsOriginal / 1e9,
      fast_gflop_per_step: p.fast.flops / 1e9,
      peak_bytes: p.fast.peakBytes,
      naive_peak_bytes: p.naive.peakBytes,
      chunk: p.fast.chunk,
      naive_chunk: p.naive.chunk,
      fast_peak_bytes_one_chunk: one.fast.peakBytes,
      fast_gflop_one_chunk: one.fast.flops / 1e9,
      naive_peak_bytes_one_chunk: one.naive.peakBytes,
    };
  });
}
