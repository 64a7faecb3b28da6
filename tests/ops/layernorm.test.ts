import { afterAll, describe, expect, it } from 'vitest';
import { layerNormBackwardCpu, layerNormForwardCpu } from '../../src/engine/ops/layernorm/cpu';
import { encodeLayerNormBackward, encodeLayerNormForward } from '../../src/engine/ops/layernorm/gpu';
import { GpuAllocator } from '../../src/engine/gpu/allocator';
import { getTestDevice, GPU_ENV_HINT } from '../helpers/webgpu';
import { f32, randn } from '../helpers/random';
import { gradCheck } from '../helpers/gradcheck';
import { relErr, report } from '../helpers/compare';
import { runAndRead, uploadF32, zerosF32 } from '../helpers/buffers';

describe('layerNorm (CPU twin)', () => {
  it('backward matches central differences (Float64)', () => {
    const [rows, d] = [4, 9];
    const x = randn(rows * d, 1, 2);
    const gamma = randn(d, 2);
    const beta = randn(d, 3);
    const { relErrors } = gradCheck(
      [x],
      ([x]) => layerNormForwardCpu(x, gamma, beta, rows, d).y,
      ([x], dy) => {
        const { mean, rstd } = layerNormForwardCpu(x, gamma, beta, rows, d);
        return [layerNormBackwardCpu(dy, x, gamma, mean, rstd, rows, d)];
      },
    );
    expect(report('layerNorm cpu dX vs FD', relErrors[0])).toBeLessThan(1e-6);
  });
});

const device = await getTestDevice();
if (!device) console.warn(`layerNorm GPU tests skipped. ${GPU_ENV_HINT}`);

describe.skipIf(!device)('layerNorm (WGSL vs CPU)', () => {
  const dev = device!;
  const alloc = device ? new GpuAllocator(dev) : (undefined as unknown as GpuAllocator);
  afterAll(() => alloc?.destroyAll());

  it('forward + backward (plain and accumulate), rows=37 d=150', async () => {
    const [rows, d] = [37, 150];
    const x = f32(randn(rows * d, 4, 3).map((v) => v + 1.5));
    const gamma = f32(randn(d, 5)), beta = f32(randn(d, 6)), dy = f32(randn(rows * d, 7));
    const prior = f32(randn(rows * d, 8));
    const want = layerNormForwardCpu(x, gamma, beta, rows, d);
    const wantDx = layerNormBackwardCpu(dy, x, gamma, want.mean, want.rstd, rows, d);
    const bx = uploadF32(alloc, x), bg = uploadF32(alloc, gamma), bb = uploadF32(alloc, beta), bdy = uploadF32(alloc, dy);
    const by = zerosF32(alloc, rows * d), bm = zerosF32(alloc, rows), br = zerosF32(alloc, rows);
    const bdx = zerosF32(alloc, rows * d), bacc = uploadF32(alloc, prior);
    const [y, mean, rstd, dx, acc] = await runAndRead(
      dev,
      (p) => {
        encodeLayerNormForward(dev, p, { x: bx, gamma: bg, beta: bb, y: by, mean: bm, rstd: br }, { rows, d });
        encodeLayerNormBackward(dev, p, { dy: bdy, x: bx, gamma: bg, mean: bm, rstd: br, dx: bdx }, { rows, d });
        encodeLayerNormBackward(dev, p, { dy: bdy, x: bx, gamma: bg, mean: bm, rstd: br, dx: bacc }, { rows, d, accumulate: true });
      },
      [by, bm, br, bdx, bacc],
    );
    expect(report('layerNorm fwd y', relErr(y, want.y))).toBeLessThan(1e-5);
    expect(report('layerNorm fwd mean', relErr(mean, want.mean))).toBeLessThan(1e-5);
    expect(report('layerNorm fwd rstd', relErr(rstd, want.rstd))).toBeLessThan(1e-5);
    expect(report('layerNorm bwd dx', relErr(dx, wantDx))).toBeLessThan(1e-5);
    expect(report('layerNorm bwd accumulate', relErr(acc, wantDx.map((v, i) => v + prior[i])))).toBeLessThan(1e-5);
  });
});
