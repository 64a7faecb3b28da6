/**
 * The CPU twin with its matmul workers as the hosts build it (chooseTextEngine's cpuPool, used by the training
 * worker and the command line): the same step as one thread on the toy CLIP, labelled with its threads, the pool
 * destroyed with the engine, and a pool that cannot start leaving the engine on one thread instead of failing.
 */
import { describe, expect, it } from 'vitest';
import { loadDump, toyClipWeights } from './engine/dumps';
import { chooseTextEngine } from '../src/worker/choose-engine';
import { CpuTextEngine } from '../src/worker/cpu-text-engine';
import { createMatmulPool, nodeMatmulPool, type MatmulPool } from '../src/engine/ops/matmul/cpu-pool';
import { WasmKernels } from '../src/engine/wasm/kernels';
import { relErr } from './helpers/compare';

const forced = { path: 'cpu' as const, by: 'test' };
const onLost = () => {};

/** Wraps a pool so the test sees destroy() called. */
function watched(pool: MatmulPool): MatmulPool & { destroyed: boolean } {
  const w = Object.create(pool) as MatmulPool & { destroyed: boolean };
  w.destroyed = false;
  w.destroy = () => {
    w.destroyed = true;
    pool.destroy();
  };
  return w;
}

describe('the CPU twin on worker threads, as the worker and the command line make it', () => {
  it('steps bit for bit as one thread, says how many threads, and destroys its pool with itself', async () => {
    const d = loadDump('coop-unified-end.bin');
    const weights = toyClipWeights();
    const one = new CpuTextEngine({ weights, logitScale: d.logitScale });
    one.setPrompts(d.spec);
    const expected = await one.step(d.ctx, d.imageFeatures, d.labels);

    // minFlops 0: even the toy's small products go to the workers.
    const pool = watched(nodeMatmulPool(1, 0));
    const { engine } = await chooseTextEngine({ weights, logitScale: d.logitScale, forced, onLost, cpuPool: () => pool });
    expect(engine.detail).toMatch(/^CPU \(JavaScript reference, 2 threads\)/);
    engine.setPrompts(d.spec);
    const before = pool.pooled;
    const got = await engine.step(d.ctx, d.imageFeatures, d.labels);
    expect(pool.pooled).toBeGreaterThan(before);
    expect(got.loss).toBe(expected.loss);
    expect(got.gradCtx).toEqual(expected.gradCtx);
    expect(got.logits).toEqual(expected.logits);
    engine.dispose();
    expect(pool.destroyed).toBe(true);
  });

  it('a pool whose workers fail to start is dropped: the engine trains on one thread', async () => {
    const d = loadDump('coop-unified-end.bin');
    const broken = watched(
      createMatmulPool(1, () => ({ postMessage() {}, terminate() {}, ready: Promise.reject(new Error('no workers here')) }), 0),
    );
    const { engine } = await chooseTextEngine({ weights: toyClipWeights(), logitScale: d.logitScale, forced, onLost, cpuPool: () => broken });
    expect(broken.destroyed).toBe(true);
    expect(engine.detail).toMatch(/^CPU \(JavaScript reference, 1 thread\)/);
    engine.setPrompts(d.spec);
    expect(Number.isFinite((await engine.step(d.ctx, d.imageFeatures, d.labels)).loss)).toBe(true);
    engine.dispose();
  });

  it('with WASM kernels the engine is the WASM one (labelled with its threads); if they cannot start, the reference trains', async () => {
    const d = loadDump('coop-unified-end.bin');
    const weights = toyClipWeights();
    const reference = new CpuTextEngine({ weights, logitScale: d.logitScale });
    reference.setPrompts(d.spec);
    const expected = await reference.step(d.ctx, d.imageFeatures, d.labels);
    const { engine } = await chooseTextEngine({ weights, logitScale: d.logitScale, forced, onLost, cpuKernels: () => WasmKernels.create({ threads: 2 }) });
    expect(engine.detail).toMatch(/^CPU \(WebAssembly SIMD( with FMA)?, 2 threads\)/);
    expect((engine as CpuTextEngine).kernelName).toBe('wasm');
    engine.setPrompts(d.spec);
    const got = await engine.step(d.ctx, d.imageFeatures, d.labels);
    expect(relErr(got.gradCtx, expected.gradCtx)).toBeLessThan(1e-4);
    expect(Math.abs(got.loss - expected.loss) / expected.loss).toBeLessThan(1e-5);
    engine.dispose();

    const warn = console.warn;
    console.warn = () => {};
    try {
      const fallback = await chooseTextEngine({ weights, logitScale: d.logitScale, forced, onLost, cpuKernels: () => Promise.reject(new Error('no SIMD here')) });
      expect(fallback.engine.detail).toMatch(/^CPU \(JavaScript reference, 1 thread\)/);
      fallback.engine.dispose();
    } finally {
      console.warn = warn;
    }
  });
});
