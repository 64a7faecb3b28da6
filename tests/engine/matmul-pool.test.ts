/**
 * The CPU twin's matmul spread over worker threads (src/engine/ops/matmul/cpu-pool.ts) gives the same bits as on
 * one thread: products of every kind it takes (ragged row counts, transB, alpha, bias, accumulate) and a whole
 * CoOp step of a Float32 random tower. Node only (worker_threads): a page's main thread may not block on Atomics.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { matmulCpu } from '../../src/engine/ops/matmul/cpu';
import { installMatmulPool, nodeMatmulPool } from '../../src/engine/ops/matmul/cpu-pool';
import { coopStepCpu } from '../../src/engine/cpu-text-encoder';
import { promptLayout } from '../../src/engine/prompt';
import type { TextConfig } from '../../src/engine/model/text-weights';
import { f32, randn } from '../helpers/random';
import { randomImages, randomPrompts, randomTextWeights } from './random-model';

describe('CPU twin matmul on worker threads', () => {
  // minFlops 0: every Float32 product goes to the pool, however small.
  const pool = nodeMatmulPool(2, 0);
  afterAll(() => pool.destroy());

  it('equals one thread bit for bit: ragged rows, transB, alpha, bias, accumulate', async () => {
    await pool.ready;
    const cases = [
      { m: 37, n: 70, k: 45 },
      { m: 9, n: 12, k: 200, transB: true, alpha: -0.5 },
      { m: 130, n: 33, k: 17, bias: true },
      { m: 66, n: 40, k: 24, transB: true, accumulate: true },
    ];
    for (const [ci, s] of cases.entries()) {
      const a = f32(randn(s.m * s.k, 10 + ci));
      const b = f32(randn(s.k * s.n, 20 + ci));
      const bias = s.bias ? f32(randn(s.n, 30 + ci)) : undefined;
      const prior = f32(randn(s.m * s.n, 40 + ci));
      installMatmulPool(null);
      const one = matmulCpu(a, b, s, bias, s.accumulate ? Float32Array.from(prior) : undefined);
      installMatmulPool(pool);
      const before = pool.pooled;
      const many = matmulCpu(a, b, s, bias, s.accumulate ? Float32Array.from(prior) : undefined);
      expect(pool.pooled).toBe(before + 1);
      expect(many).toEqual(one);
    }
  });

  it('a whole CoOp step (Float32 random tower, unified and CSC) is the same with the pool', () => {
    const cfg: TextConfig = { D: 32, L: 2, H: 2, V: 40, E: 16, F: 128, P: 24, eps: 1e-5 };
    const w = randomTextWeights(cfg, 5, true);
    const K = 6;
    const { imageFeatures, labels } = randomImages(8, cfg.E, K);
    for (const csc of [false, true]) {
      const layout = promptLayout(randomPrompts(cfg, K, 4, csc, 'end'), cfg.V);
      const input = { layout, ctx: f32(randn(layout.ctxRows * cfg.D, 3, 0.02)), imageFeatures: f32(imageFeatures), labels, logitScale: 10 };
      installMatmulPool(null);
      const one = coopStepCpu(w, input);
      installMatmulPool(pool);
      const before = pool.pooled;
      const many = coopStepCpu(w, input);
      expect(pool.pooled).toBeGreaterThan(before);
      expect(many.loss).toBe(one.loss);
      expect(many.gradCtx).toEqual(one.gradCtx);
      expect(many.logits).toEqual(one.logits);
    }
  });

  it('a destroyed pool left installed computes on the calling thread (no wait on workers that are gone)', async () => {
    const gone = nodeMatmulPool(1, 0);
    await gone.ready;
    installMatmulPool(gone);
    const a = f32(randn(16 * 8, 1));
    const b = f32(randn(8 * 12, 2));
    const s = { m: 16, n: 12, k: 8 };
    const pooled = matmulCpu(a, b, s);
    expect(gone.pooled).toBe(1);
    // Not through installMatmulPool(null): a wrapper or a second install can leave it in place.
    gone.destroy();
    installMatmulPool(gone);
    expect(matmulCpu(a, b, s)).toEqual(pooled);
    expect(gone.pooled).toBe(1);
    installMatmulPool(null);
  });
});
