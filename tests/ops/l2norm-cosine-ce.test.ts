import { afterAll, describe, expect, it } from 'vitest';
import { l2NormalizeBackwardCpu, l2NormalizeForwardCpu } from '../../src/engine/ops/l2norm/cpu';
import { encodeL2NormalizeBackward, encodeL2NormalizeForward } from '../../src/engine/ops/l2norm/gpu';
import { cosineCEBackwardCpu, cosineCEForwardCpu } from '../../src/engine/ops/cosine-ce/cpu';
import { encodeCosineCEBackward, encodeCosineCEForward } from '../../src/engine/ops/cosine-ce/gpu';
import { GpuAllocator } from '../../src/engine/gpu/allocator';
import { getTestDevice, GPU_ENV_HINT } from '../helpers/webgpu';
import { f32, randInts, randn } from '../helpers/random';
import { gradCheck } from '../helpers/gradcheck';
import { relErr, report } from '../helpers/compare';
import { runAndRead, uploadF32, uploadU32, zerosF32 } from '../helpers/buffers';

describe('l2normalize / cosine CE (CPU twins)', () => {
  it('l2normalize backward matches central differences (Float64)', () => {
    const [rows, d] = [3, 7];
    const { relErrors } = gradCheck(
      [randn(rows * d, 1)],
      ([x]) => l2NormalizeForwardCpu(x, rows, d),
      ([x], dy) => [l2NormalizeBackwardCpu(dy, x, rows, d)],
    );
    expect(report('l2norm cpu dX vs FD', relErrors[0])).toBeLessThan(1e-7);
  });

  it('cosine CE dTxt matches central differences of the loss (Float64)', () => {
    const dims = { n: 5, k: 4, e: 6, scale: 7 };
    const img = l2NormalizeForwardCpu(randn(dims.n * dims.e, 2), dims.n, dims.e) as Float64Array;
    const labels = [0, 3, 1, 1, 2];
    // gradCheck weights outputs by a random R; a one-element output makes that R·loss, and gLoss = R passes it on.
    const { relErrors } = gradCheck(
      [randn(dims.k * dims.e, 3, 0.3)],
      ([txt]) => [cosineCEForwardCpu(img, txt, labels, dims).loss],
      ([txt], r) => {
        const f = cosineCEForwardCpu(img, txt, labels, dims);
        return [cosineCEBackwardCpu(img, f.logits, f.lse, labels, dims, r[0]).dTxt];
      },
    );
    expect(report('cosineCE cpu dTxt vs FD', relErrors[0])).toBeLessThan(1e-6);
  });
});

const device = await getTestDevice();
if (!device) console.warn(`l2norm / cosine CE GPU tests skipped. ${GPU_ENV_HINT}`);

describe.skipIf(!device)('l2normalize / cosine CE (WGSL vs CPU)', () => {
  const dev = device!;
  const alloc = device ? new GpuAllocator(dev) : (undefined as unknown as GpuAllocator);
  afterAll(() => alloc?.destroyAll());

  it('l2normalize fwd/bwd rows=37 d=70', async () => {
    const [rows, d] = [37, 70];
    const x = f32(randn(rows * d, 1)), dy = f32(randn(rows * d, 2));
    const bx = uploadF32(alloc, x), bdy = uploadF32(alloc, dy), by = zerosF32(alloc, rows * d), bdx = zerosF32(alloc, rows * d);
    const [y, dx] = await runAndRead(
      dev,
      (p) => {
        encodeL2NormalizeForward(dev, p, { x: bx, y: by }, { rows, d });
        encodeL2NormalizeBackward(dev, p, { dy: bdy, x: bx, dx: bdx }, { rows, d });
      },
      [by, bdx],
    );
    expect(report('l2norm fwd', relErr(y, l2NormalizeForwardCpu(x, rows, d)))).toBeLessThan(1e-5);
    expect(report('l2norm bwd', relErr(dx, l2NormalizeBackwardCpu(dy, x, rows, d)))).toBeLessThan(1e-5);
  });

  it('cosine CE fwd/bwd N=37 K=70 E=45, scale 100', async () => {
    const dims = { n: 37, k: 70, e: 45, scale: 100 };
    const img = f32(l2NormalizeForwardCpu(randn(dims.n * dims.e, 3), dims.n, dims.e));
    const txt = f32(l2NormalizeForwardCpu(randn(dims.k * dims.e, 4), dims.k, dims.e));
    const labels = randInts(dims.n, dims.k, 5);
    const want = cosineCEForwardCpu(img, txt, labels, dims);
    const wantB = cosineCEBackwardCpu(img, want.logits, want.lse, labels, dims);
    const bimg = uploadF32(alloc, img), btxt = uploadF32(alloc, txt), blab = uploadU32(alloc, labels);
    const blog = zerosF32(alloc, dims.n * dims.k), blse = zerosF32(alloc, dims.n), brl = zerosF32(alloc, dims.n), bloss = zerosF32(alloc, 1);
    const bdl = zerosF32(alloc, dims.n * dims.k), bdt = zerosF32(alloc, dims.k * dims.e);
    const [logits, lse, loss, dTxt] = await runAndRead(
      dev,
      (p) => {
        encodeCosineCEForward(dev, p, { img: bimg, txt: btxt, labels: blab, logits: blog, lse: blse, rowLoss: brl, loss: bloss }, dims);
        encodeCosineCEBackward(dev, p, { img: bimg, logits: blog, lse: blse, labels: blab, dLogits: bdl, dTxt: bdt }, dims);
      },
      [blog, blse, bloss, bdt],
    );
    expect(report('cosineCE logits', relErr(logits, want.logits))).toBeLessThan(1e-5);
    expect(report('cosineCE lse', relErr(lse, want.lse))).toBeLessThan(1e-5);
    expect(report('cosineCE loss', Math.abs(loss[0] - want.loss) / Math.abs(want.loss))).toBeLessThan(1e-5);
    expect(report('cosineCE dTxt', relErr(dTxt, wantB.dTxt))).toBeLessThan(1e-4);
  });
});
