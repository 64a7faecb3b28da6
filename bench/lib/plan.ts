/**
 * Counts at sizes too large to run here, from the engine's own planner: the engine
 * allocates exactly the planner's buffers, so its bytes are what a real run would hold.
 */
import type { TextConfig } from '../../src/engine/model/text-weights';
import { planStep, type StepPlan } from '../../src/engine/plan';
import type { ClassTokenPosition } from '../../src/engine/prompt';
import { modelShape, randomShapeConfig } from './shapes';
import type { BenchOptions, PlanRow } from './types';
import { BATCH, engineChunk } from './text-step';

/** The synthetic class names are 1–3 tokens, so the longest name in any batch of ≥ 3 classes is 3. */
export const LONGEST_NAME = 3;

export function planFor(cfg: TextConfig, K: number, M: number, csc = false, position: ClassTokenPosition = 'end', chunk?: number): StepPlan {
  const shape = modelShape(cfg);
  return planStep({
    shape,
    K,
    M,
    csc,
    position,
    chunk: chunk ?? engineChunk(cfg, K, M, csc, position),
    batch: BATCH,
    nameLen: Math.min(LONGEST_NAME, K),
  });
}

export function plannedFastPositions(cfg: TextConfig, K: number, M: number): number {
  return planFor(cfg, K, M).fastPositions;
}

export function planRows(opts: BenchOptions): PlanRow[] {
  const cfg = randomShapeConfig('vit-b32');
  return opts.planKs.map((k) => {
    const p = planFor(cfg, k, opts.m);
    // All K classes in one chunk: no recomputation, more memory; what the original holds is
    // at least the naive path's all-in-one-chunk activations.
    const one = planFor(cfg, k, opts.m, false, 'end', k);
    return {
      shape: 'vit-b32',
      k,
      naive_positions: p.naivePositions,
      fast_positions: p.fastPositions,
      naive_gflop_per_step: p.flopsNaive / 1e9,
      fast_gflop_per_step: p.flopsFast / 1e9,
      peak_bytes: p.fast.peakBytes,
      naive_peak_bytes: p.naive.peakBytes,
      chunk: p.fast.chunk,
      fast_peak_bytes_one_chunk: one.fast.peakBytes,
      fast_gflop_one_chunk: one.fast.flops / 1e9,
      naive_peak_bytes_one_chunk: one.naive.peakBytes,
    };
  });
}
