import { afterAll, describe, expect, it } from 'vitest';
import { quickGeluBackwardCpu, quickGeluForwardCpu } from '../../src/engine/ops/quickgelu/cpu';
import { encodeQuickGeluBackward, encodeQuickGeluForward } from '../../src/engine/ops/quickgelu/gpu';
import { addCpu, addInPlaceCpu } from '../../src/engine/ops/add/cpu';
import { encodeAdd, encodeAddInPlace } from '../../src/engine/ops/add/gpu';
import { GpuAllocator } from '../../src/engine/gpu/allocator';
import { getTestDevice, GPU_ENV_HINT } from '../helpers/webgpu';
import { f32, randn } from '../helpers/random';
import { gradCheck } from '../helpers/gradcheck';
import { relErr, report } from '../helpers/compare';
import { runAndRead, uploadF32, zerosF32 } from '../helpers/buffers';

describe('quickGelu / add (CPU twins)', () => {
  it('quickGelu backward matches central differences (Float64)', () => {
    const x = randn(23, 1, 3);
    const { relErrors } = gradCheck(
      [x],
      ([x]) => quickGeluForwardCpu(x),
      ([x], dy) => [quickGeluBackwardCpu(dy, x)],
    );
    expect(report('quickGelu cpu dX vs FD', relErrors[0])).toBeLessThan(1e-7);
  });

  it('add and in-place add', () => {
    const a = randn(7, 1), b = randn(7, 2);
    const sum = addCpu(a, b);
    expect(Array.from(sum)).toEqual(Array.from(a).map((v, i) => v + b[i]));
    const a2 = Float64Array.from(a);
    expect(addInPlaceCpu(a2, b)).toBe(a2);
    expect(Array.from(a2)).toEqual(Array.from(sum));
  });
});

const device = await getTestDevice();
if (!device) console.warn(`elementwise GPU tests skipped. ${GPU_ENV_HINT}`);

describe.skipIf(!device)('quickGelu / add (WGSL vs CPU)', () => {
  const dev = device!;
  const alloc = device ? new GpuAllocator(dev) : (undefined as unknown as GpuAllocator);
  afterAll(() => alloc?.destroyAll());

  it('quickGelu fwd/bwd and add/addInPlace, n=1037 (not a multiple of 256), with extreme inputs', async () => {
    const n = 1037;
    const x = f32(randn(n, 1, 4));
    x[0] = -80; x[1] = 80; x[2] = 0;
    const dy = f32(randn(n, 2)), b = f32(randn(n, 3));
    const bx = uploadF32(alloc, x), bdy = uploadF32(alloc, dy), bb = uploadF32(alloc, b);
    const by = zerosF32(alloc, n), bdx = zerosF32(alloc, n), bsum = zerosF32(alloc, n), binp = uploadF32(alloc, x);
    const [y, dx, sum, inp] = await runAndRead(
      dev,
      (p) => {
        encodeQuickGeluForward(dev, p, { x: bx, y: by }, n);
        encodeQuickGeluBackward(dev, p, { dy: bdy, x: bx, dx: bdx }, n);
        encodeAdd(dev, p, { a: bx, b: bb, out: bsum }, n);
        encodeAddInPlace(dev, p, { a: binp, b: bb }, n);
      },
      [by, bdx, bsum, binp],
    );
    expect(report('quickGelu fwd', relErr(y, quickGeluForwardCpu(x)))).toBeLessThan(1e-5);
    expect(report('quickGelu bwd', relErr(dx, quickGeluBackwardCpu(dy, x)))).toBeLessThan(1e-5);
    expect(Number.isFinite(y[0]) && Number.isFinite(dx[0])).toBe(true);
    expect(report('add', relErr(sum, addCpu(x, b)))).toBeLessThan(1e-6);
    expect(report('addInPlace', relErr(inp, addCpu(x, b)))).toBeLessThan(1e-6);
  });
});
