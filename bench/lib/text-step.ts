/**
 * One CoOp training step (forward, loss, backward to the context vectors) on the naive
 * path (all 77 positions of every class, as the original) and the fast path (cut at EOS,
 * shared prefix), timed alternately in the same run so that both see the same machine state.
 *
 * Each (case, path) gets its own engine: an engine keeps one layout's buffers, so sharing
 * one between the paths would free and reallocate them at every alternation and time the
 * allocator. A fresh engine per case also makes its allocator's peak that case's peak,
 * comparable with the planner's.
 */
import { createTextEngine, type StepInput, type TextEngine } from '../../src/engine/text-engine';
import type { TextConfig, TextWeights } from '../../src/engine/model/text-weights';
import type { EngineMode } from '../../src/engine/plan';
import type { ClassTokenPosition } from '../../src/engine/prompt';
import { enginePlan, promptLengths } from './plan';
import { BATCH, syntheticTokenIds } from './shapes';
import { median, now, type Budget, type Log } from './timing';
import type { BenchOptions, ShapeName, TextStepRow } from './types';

/** Used before anything has been timed on this adapter: SwiftShader's order of magnitude. */
const FALLBACK_GFLOPS = 0.03;

export interface StepCase {
  k: number;
  csc: boolean;
  position: ClassTokenPosition;
}

export function stepCases(opts: BenchOptions): StepCase[] {
  const cases: StepCase[] = opts.ks.map((k) => ({ k, csc: false, position: 'end' }));
  if (opts.extraK > 0) cases.push({ k: opts.extraK, csc: true, position: 'end' }, { k: opts.extraK, csc: false, position: 'middle' });
  return cases;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  };
}

export function stepInput(cfg: TextConfig, c: StepCase, M: number): StepInput {
  const next = rng(c.k * 31 + M);
  const { tokenIds, nameLens } = syntheticTokenIds(cfg.V, c.k, M);
  const ctx = new Float32Array((c.csc ? c.k : 1) * M * cfg.D).map(() => 0.04 * next());
  const imageFeatures = new Float32Array(BATCH * cfg.E);
  for (let n = 0; n < BATCH; n++) {
    const row = imageFeatures.subarray(n * cfg.E, (n + 1) * cfg.E);
    let norm = 0;
    for (let e = 0; e < cfg.E; e++) norm += (row[e] = next()) ** 2;
    for (let e = 0; e < cfg.E; e++) row[e] /= Math.sqrt(norm);
  }
  const labels = Array.from({ length: BATCH }, (_, n) => (n * 7) % c.k);
  return { ctx, tokenIds, nameLens, csc: c.csc, position: c.position, imageFeatures, labels, logitScale: 100 };
}

interface PathRun {
  engine: TextEngine;
  flops: number;
  times: number[];
  /** Loss and gradient of the last step, to check that both paths agree. */
  loss?: number;
  grad?: Float32Array;
  positions?: number;
}

/** Best step throughput seen so far per path on this adapter, for estimating what still fits the budget. */
const gflopsSeen = new Map<EngineMode, number>();

/**
 * One fast K = 1 step compiles nearly every pipeline of the shape (the naive path adds a few
 * variants, whose compilation is small next to a 77-position step), so a case whose steps are
 * long anyway can time its first step instead of throwing it away as a warm-up.
 */
async function compileWarmup(device: GPUDevice, weights: TextWeights, M: number, log: Log): Promise<void> {
  const input = stepInput(weights.config, { k: 1, csc: false, position: 'end' }, M);
  const engine = createTextEngine(device, weights, { mode: 'fast', chunk: 1 });
  try {
    const t0 = now();
    await engine.step(input);
    log(`${weights.config.D}-wide: compile warm-up (K=1, fast) ${((now() - t0) / 1000).toFixed(1)} s`);
  } finally {
    engine.destroy();
  }
}

/** A step that takes longer than this is compute-bound: its first run is timed, not discarded. */
const WARMUP_BELOW_MS = 10_000;

/**
 * `rowsAfter`: text-step rows still to come after this shape's. Each row's first timed step of
 * each path is budgeted before any row's further repetitions, so a small --budget buys
 * coverage first and precision after.
 */
export async function benchTextStep(
  device: GPUDevice,
  shape: ShapeName,
  weights: TextWeights,
  opts: BenchOptions,
  budget: Budget,
  matmulBest: number | null,
  log: Log,
  rowsAfter = 0,
): Promise<TextStepRow[]> {
  const cfg = weights.config;
  const rows: TextStepRow[] = [];
  const cases = stepCases(opts);
  let warmedUp = false;
  for (const [ci, c] of cases.entries()) {
    const input = stepInput(cfg, c, opts.m);
    // Naive holds all K classes at once and recomputes nothing, as the original does; fast uses
    // the engine's default chunk, as the app does.
    const plan = enginePlan(cfg, c.k, opts.m, c.csc, c.position, promptLengths(cfg, input, opts.m), { naive: c.k });
    const label = `${shape} K=${c.k} ${c.csc ? 'CSC' : 'unified'} ${c.position}`;
    const row: TextStepRow = {
      shape,
      k: c.k,
      m: opts.m,
      csc: c.csc,
      position: c.position,
      naive_ms: null,
      fast_ms: null,
      speedup: null,
      naive_positions: plan.naive.positions,
      fast_positions: plan.fast.positions,
      gflop_per_step: plan.fast.flops / 1e9,
      naive_gflop_per_step: plan.naive.flops / 1e9,
      fast_gflops: null,
      naive_gflops: null,
      fast_fraction_of_matmul: null,
      fast_peak_bytes_measured: null,
      fast_peak_bytes_planned: plan.fast.peakBytes,
      naive_peak_bytes_measured: null,
      naive_peak_bytes_planned: plan.naive.peakBytes,
      max_abs_diff: null,
      naive_chunk: plan.naive.chunk,
      fast_chunk: plan.fast.chunk,
      reps: 0,
    };
    rows.push(row);
    const notes: string[] = [];
    const flopsOf = (mode: EngineMode) => (mode === 'naive' ? plan.naive.flops : plan.fast.flops);
    // Naive runs larger matmuls than fast, so fast's rate is a safe (slow) guess for naive.
    const rate = (mode: EngineMode) =>
      gflopsSeen.get(mode) ?? gflopsSeen.get('fast') ?? (matmulBest ? matmulBest / 4 : FALLBACK_GFLOPS);
    const estMs = (mode: EngineMode) => flopsOf(mode) / rate(mode) / 1e6;
    const firstCost = (mode: EngineMode) => estMs(mode) * (estMs(mode) < WARMUP_BELOW_MS ? 2 : 1);
    const skip = (mode: EngineMode) =>
      notes.push(
        `${mode} not run: ~${(firstCost(mode) / 1000).toFixed(0)} s estimated at ${rate(mode).toFixed(3)} GFLOP/s, ` +
          `${(Math.max(0, budget.leftMs) / 1000).toFixed(0)} s of --budget left`,
      );
    const runs = new Map<EngineMode, PathRun>();
    try {
      const stepOnce = async (mode: EngineMode) => {
        const r = runs.get(mode)!;
        const t0 = now();
        const res = await r.engine.step(input);
        const ms = now() - t0;
        r.loss = res.loss;
        r.grad = res.gradCtx.slice();
        r.positions = res.stats.positions;
        return ms;
      };
      // Fast first: it is the cheap one, and its measured rate tells whether naive fits.
      for (const mode of ['fast', 'naive'] as const) {
        if (mode === 'fast' && !warmedUp && firstCost('fast') <= budget.leftMs) {
          await compileWarmup(device, weights, opts.m, log);
          warmedUp = true;
        }
        if (mode === 'naive' && opts.naiveMaxK !== undefined && c.k > opts.naiveMaxK) {
          notes.push(`naive not run: K = ${c.k} > --naive-max-k ${opts.naiveMaxK}`);
          continue;
        }
        if (firstCost(mode) > budget.leftMs) {
          skip(mode);
          continue;
        }
        const chunk = mode === 'naive' ? c.k : undefined;
        runs.set(mode, { engine: createTextEngine(device, weights, { mode, chunk }), flops: flopsOf(mode), times: [] });
        const r = runs.get(mode)!;
        if (estMs(mode) < WARMUP_BELOW_MS) {
          await stepOnce(mode);
        } else {
          notes.push(`${mode}: first step timed (no warm-up)`);
        }
        r.times.push(await stepOnce(mode));
        gflopsSeen.set(mode, Math.max(gflopsSeen.get(mode) ?? 0, r.flops / r.times[0] / 1e6));
      }
      // Further repetitions alternate naive, fast, naive, fast… while this row's share of the
      // budget lasts.
      const modes = (['naive', 'fast'] as const).filter((m) => runs.has(m));
      const stillToCome = cases.length - 1 - ci + rowsAfter;
      for (let rep = 1; rep < opts.reps && modes.length; rep++) {
        const need = modes.reduce((sum, m) => sum + median(runs.get(m)!.times), 0);
        if (need > budget.leftMs / (stillToCome + 1)) {
          notes.push(`${rep} rep${rep > 1 ? 's' : ''}: --budget`);
          break;
        }
        for (const mode of modes) runs.get(mode)!.times.push(await stepOnce(mode));
      }
      for (const mode of modes) {
        const r = runs.get(mode)!;
        const ms = median(r.times);
        const gflops = r.flops / ms / 1e6;
        gflopsSeen.set(mode, Math.max(gflopsSeen.get(mode) ?? 0, gflops));
        const planned = plan[mode].positions;
        if (r.positions !== planned) notes.push(`${mode}: engine computed ${r.positions} positions, plan says ${planned}`);
        if (mode === 'naive') {
          row.naive_ms = ms;
          row.naive_gflops = gflops;
          row.naive_peak_bytes_measured = r.engine.allocator.peakBytes;
        } else {
          row.fast_ms = ms;
          row.fast_gflops = gflops;
          row.fast_peak_bytes_measured = r.engine.allocator.peakBytes;
          row.fast_fraction_of_matmul = matmulBest ? gflops / matmulBest : null;
        }
        row.reps = Math.max(row.reps, r.times.length);
      }
      if (row.naive_ms !== null && row.fast_ms !== null) row.speedup = row.naive_ms / row.fast_ms;
      const n = runs.get('naive');
      const f = runs.get('fast');
      if (n?.grad && f?.grad) {
        let d = Math.abs(n.loss! - f.loss!);
        let g = 0;
        for (let i = 0; i < n.grad.length; i++) {
          d = Math.max(d, Math.abs(n.grad[i] - f.grad[i]));
          g = Math.max(g, Math.abs(n.grad[i]));
        }
        row.max_abs_diff = d;
        row.grad_max_abs = g;
      }
    } finally {
      for (const r of runs.values()) r.engine.destroy();
    }
    if (notes.length) row.note = notes.join('; ');
    log(
      `${label}: naive ${fmtMs(row.naive_ms)}, fast ${fmtMs(row.fast_ms)}` +
        (row.speedup ? `, ${row.speedup.toFixed(1)}×` : '') +
        `, positions ${row.naive_positions} → ${row.fast_positions}` +
        (row.max_abs_diff !== null ? `, max |naive − fast| ${row.max_abs_diff.toExponential(1)}` : '') +
        (row.note ? ` (${row.note})` : ''),
    );
  }
  return rows;
}

function fmtMs(ms: number | null): string {
  return ms === null ? '—' : `${ms.toFixed(0)} ms`;
}
