/**
 * The whole benchmark on one device, the same code in the bench page and in Node: only
 * how the device, the toy weights and the image towers are obtained differs (`SuiteHost`).
 */
import type { TextWeights } from '../../src/engine/model/text-weights';
import { benchMatmul } from './matmul';
import { profileStep, type ProfileResult } from './profile';
import { planRows, plannedFastPositions } from './plan';
import { randomShapeConfig, randomTextWeights } from './shapes';
import { benchTextStep, stepCases } from './text-step';
import { Budget, now, type Log } from './timing';
import type { AdapterInfo, BenchOptions, BenchResult, ImageEncodeResult, MatmulRow, ShapeName, TextStepRow } from './types';

export interface SuiteHost {
  device: GPUDevice;
  adapter: AdapterInfo;
  loadToyWeights(): Promise<TextWeights>;
  imageEncode(log: Log): Promise<ImageEncodeResult>;
  log: Log;
}

export async function runSuite(host: SuiteHost, opts: BenchOptions): Promise<BenchResult> {
  const t0 = now();
  const { device, log } = host;
  const errors: string[] = [];
  const attempt = async <T>(what: string, fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (e) {
      const msg = `${what}: ${(e as Error).message ?? e}`;
      log(`error: ${msg}`);
      errors.push(msg);
      return undefined;
    }
  };

  const plan = (await attempt('plan', async () => planRows(opts))) ?? [];

  // One budget for the run: text-step rows come last and are skipped, with a note, where they
  // would not fit.
  const budget = new Budget(opts.budgetS);
  let image_encode: ImageEncodeResult | null = null;
  if (opts.image) image_encode = (await attempt('image encoding', () => host.imageEncode(log))) ?? null;

  const matmul: MatmulRow[] = [];
  const text_step: TextStepRow[] = [];
  const weights = new Map<ShapeName, TextWeights>();
  for (const shape of opts.shapes) {
    const w = await attempt(`${shape} weights`, () => loadWeights(host, shape, log));
    if (w) weights.set(shape, w);
  }
  // Every shape's matmul before any text step: it is short next to a step, and a budget spent
  // on the first shape's steps should not leave later shapes without their reference rate.
  if (opts.matmul) {
    for (const [shape, w] of weights) {
      const rows = plannedFastPositions(w.config, Math.max(...opts.ks), opts.m);
      const got = await attempt(`${shape} matmul`, () => benchMatmul(device, shape, w.config, rows, Math.max(2, opts.reps), budget, log));
      if (got) matmul.push(...got);
    }
  }
  const profile: ProfileResult[] = [];
  if (opts.profile) {
    for (const [shape, w] of weights) {
      for (const k of opts.profileKs ?? [10]) {
        const got = await attempt(`${shape} profile K=${k}`, () => profileStep(device, shape, w, k, opts.m, log));
        if (got) profile.push(got);
      }
    }
  }
  if (opts.textStep) {
    const shapes = [...weights.keys()];
    for (const [si, shape] of shapes.entries()) {
      const rowsAfter = (shapes.length - 1 - si) * stepCases(opts).length;
      const best = bestGflops(matmul, shape);
      const got = await attempt(`${shape} text step`, () => benchTextStep(device, shape, weights.get(shape)!, opts, budget, best, log, rowsAfter));
      if (got) text_step.push(...got);
    }
  }

  return {
    adapter: host.adapter,
    options: opts,
    started: new Date(Date.now() - (now() - t0)).toISOString(),
    seconds: (now() - t0) / 1000,
    text_step,
    plan,
    matmul_gflops: matmul.length ? Math.max(...matmul.map((m) => m.gflops)) : null,
    matmul,
    image_encode,
    ...(opts.profile ? { profile } : {}),
    errors,
  };
}

function bestGflops(rows: MatmulRow[], shape: ShapeName): number | null {
  const mine = rows.filter((r) => r.shape === shape);
  return mine.length ? Math.max(...mine.map((r) => r.gflops)) : null;
}

async function loadWeights(host: SuiteHost, shape: ShapeName, log: Log): Promise<TextWeights> {
  if (shape === 'toy') return host.loadToyWeights();
  const t = now();
  const w = randomTextWeights(randomShapeConfig(shape));
  log(`${shape}: random weights built in ${((now() - t) / 1000).toFixed(1)} s`);
  return w;
}
