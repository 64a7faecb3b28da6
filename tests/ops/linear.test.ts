import { describe, expect, it, afterAll } from 'vitest';
import { linearBackwardCpu, linearForwardCpu } from '../../src/engine/ops/linear/cpu';
import { encodeLinearBackward, encodeLinearForward } from '../../src/engine/ops/linear/gpu';
import { matmulCpu } from '../../src/engine/ops/matmul/cpu';
import { encodeMatmul, type MatmulKernel } from '../../src/engine/ops/matmul/gpu';
import { GpuAllocator } from '../../src/engine/gpu/allocator';
import { bindGroupCount, onDispatch, submitPass } from '../../src/engine/gpu/dispatch';
import { addCpu } from '../../src/engine/ops/add/cpu';
import { quickGeluBackwardCpu, quickGeluForwardCpu } from '../../src/engine/ops/quickgelu/cpu';
import { readF32 } from '../../src/engine/gpu/readback';
import { pipelineCount } from '../../src/engine/gpu/pipelines';
import { getTestDevice, withValidation, GPU_ENV_HINT } from '../helpers/webgpu';
import { f32, randn } from '../helpers/random';
import { gradCheck } from '../helpers/gradcheck';
import { relErr, report } from '../helpers/compare';
import { uploadF32, zerosF32 } from '../helpers/buffers';

describe('linear (CPU twin)', () => {
  it('backward matches central differences (Float64)', () => {
    const [n, i, o] = [5, 7, 6];
    const x = randn(n * i, 1);
    const w = randn(i * o, 2);
    const b = randn(o, 3);
    const { relErrors } = gradCheck(
      [x],
      ([x]) => linearForwardCpu(x, w, b, n, i, o),
      (_, dy) => [linearBackwardCpu(dy, w, n, i, o)],
    );
    expect(report('linear cpu dX vs FD', relErrors[0])).toBeLessThan(1e-7);
  });

  it('Float32 and Float64 inputs give matching results', () => {
    const x = randn(12, 4);
    const w = randn(12, 5);
    const y64 = linearForwardCpu(x, w, undefined, 3, 4, 3);
    const y32 = linearForwardCpu(f32(x), f32(w), undefined, 3, 4, 3);
    expect(y64).toBeInstanceOf(Float64Array);
    expect(y32).toBeInstanceOf(Float32Array);
    expect(relErr(y32, y64)).toBeLessThan(1e-6);
  });
});

const device = await getTestDevice();
if (!device) console.warn(`linear GPU tests skipped. ${GPU_ENV_HINT}`);

describe.skipIf(!device)('linear / matmul (WGSL vs CPU)', () => {
  const dev = device!;
  const alloc = device ? new GpuAllocator(dev) : (undefined as unknown as GpuAllocator);
  afterAll(() => alloc?.destroyAll());

  it('forward with bias, N=37 in=45 out=70', async () => {
    const [n, i, o] = [37, 45, 70];
    const x = f32(randn(n * i, 10));
    const w = f32(randn(i * o, 11, 0.2));
    const b = f32(randn(o, 12));
    const want = linearForwardCpu(x, w, b, n, i, o);
    const bx = uploadF32(alloc, x), bw = uploadF32(alloc, w), bb = uploadF32(alloc, b), by = zerosF32(alloc, n * o);
    const got = await withValidation(dev, async () => {
      submitPass(dev, (p) => encodeLinearForward(dev, p, { x: bx, w: bw, b: bb, y: by }, { n, inDim: i, outDim: o }));
      return readF32(dev, by);
    });
    expect(report('linear fwd gpu', relErr(got, want))).toBeLessThan(1e-5);
  });

  it('backward dX = dY·Wᵀ, plain and accumulate, N=37 in=45 out=70', async () => {
    const [n, i, o] = [37, 45, 70];
    const dy = f32(randn(n * o, 20));
    const w = f32(randn(i * o, 21, 0.2));
    const prior = f32(randn(n * i, 22));
    const want = linearBackwardCpu(dy, w, n, i, o);
    const bdy = uploadF32(alloc, dy), bw = uploadF32(alloc, w), bdx = zerosF32(alloc, n * i), bacc = uploadF32(alloc, prior);
    const [got, gotAcc] = await withValidation(dev, async () => {
      submitPass(dev, (p) => {
        encodeLinearBackward(dev, p, { dy: bdy, w: bw, dx: bdx }, { n, inDim: i, outDim: o });
        encodeLinearBackward(dev, p, { dy: bdy, w: bw, dx: bacc }, { n, inDim: i, outDim: o, accumulate: true });
      });
      return [await readF32(dev, bdx), await readF32(dev, bacc)];
    });
    expect(report('linear bwd gpu', relErr(got, want))).toBeLessThan(1e-5);
    const wantAcc = want.map((v, k) => v + prior[k]);
    expect(report('linear bwd accumulate gpu', relErr(gotAcc, wantAcc))).toBeLessThan(1e-5);
  });

  it('generic matmul: transA, transB, alpha, batch with shared B, sizes crossing several tiles', async () => {
    const cases = [
      { m: 70, n: 130, k: 33, transA: false, transB: false },
      { m: 65, n: 17, k: 81, transA: true, transB: false },
      { m: 19, n: 66, k: 40, transA: false, transB: true, alpha: 2.5 },
      { m: 9, n: 11, k: 130, transA: true, transB: true, alpha: -0.5 },
      { m: 13, n: 21, k: 10, batch: 3, strideB: 0 },
    ];
    for (const [ci, s] of cases.entries()) {
      const batch = s.batch ?? 1;
      const a = f32(randn(batch * s.m * s.k, 30 + ci));
      const b = f32(randn((s.strideB === 0 ? 1 : batch) * s.k * s.n, 40 + ci));
      const want = matmulCpu(a, b, s);
      const ba = uploadF32(alloc, a), bb = uploadF32(alloc, b), bc = zerosF32(alloc, batch * s.m * s.n);
      const got = await withValidation(dev, async () => {
        submitPass(dev, (p) => encodeMatmul(dev, p, { a: ba, b: bb, c: bc }, s));
        return readF32(dev, bc);
      });
      expect(report(`matmul case ${ci} ${JSON.stringify(s)}`, relErr(got, want))).toBeLessThan(1e-5);
    }
  });

  // The register-blocked vec4 kernel (what 'auto' picks when K and N are multiples of 4) against the CPU twin,
  // next to the scalar tiled kernel on the same inputs: ragged M, N and K (partial tiles and K slices), transB,
  // alpha, accumulate, bias, batches with strides and a shared B.
  it('vec4 and tiled kernels: ragged shapes, transB, alpha, accumulate, bias, batch', async () => {
    const cases = [
      { m: 70, n: 132, k: 36 },
      { m: 65, n: 20, k: 84, transB: true },
      { m: 9, n: 12, k: 200, transB: true, alpha: -0.5 },
      { m: 1, n: 4, k: 4 },
      { m: 67, n: 68, k: 132, alpha: 2.5, bias: true },
      { m: 5, n: 72, k: 44, transB: true, accumulate: true },
      { m: 13, n: 24, k: 12, batch: 3, strideB: 0 },
      { m: 6, n: 8, k: 20, batch: 2, strideA: 6 * 20, strideB: 8 * 20, strideC: 6 * 8, transB: true },
    ];
    const keys: string[] = [];
    const stop = onDispatch(dev, (d) => keys.push(d.key));
    try {
      for (const [ci, s] of cases.entries()) {
        const batch = s.batch ?? 1;
        const a = f32(randn(batch * s.m * s.k, 130 + ci));
        const b = f32(randn((s.strideB === 0 ? 1 : batch) * s.k * s.n, 140 + ci));
        const bias = s.bias ? f32(randn(s.n, 150 + ci)) : undefined;
        const prior = f32(randn(batch * s.m * s.n, 160 + ci));
        const want = matmulCpu(a, b, s, bias, s.accumulate ? Float32Array.from(prior) : undefined);
        const ba = uploadF32(alloc, a), bb = uploadF32(alloc, b), bbias = bias ? uploadF32(alloc, bias) : undefined;
        for (const kernel of ['vec4', 'tiled'] as MatmulKernel[]) {
          const bc = s.accumulate ? uploadF32(alloc, prior) : zerosF32(alloc, batch * s.m * s.n);
          const got = await withValidation(dev, async () => {
            submitPass(dev, (p) => encodeMatmul(dev, p, { a: ba, b: bb, c: bc, bias: bbias }, { ...s, kernel }));
            return readF32(dev, bc);
          });
          expect(report(`matmul ${kernel} case ${ci} ${JSON.stringify(s)}`, relErr(got, want))).toBeLessThan(1e-5);
        }
      }
    } finally {
      stop();
    }
    expect(keys.filter((k) => k.startsWith('matmul-vec4:')).length).toBe(cases.length);
    expect(keys.filter((k) => k.startsWith('matmul:')).length).toBe(cases.length);
    // 'auto' takes vec4 where it fits and the scalar kernel elsewhere (K = 45, transA, transB).
    const picked: string[] = [];
    const stop2 = onDispatch(dev, (d) => picked.push(d.key.split(':')[0]));
    const x = uploadF32(alloc, randn(8 * 45, 1)), y = zerosF32(alloc, 8 * 45);
    submitPass(dev, (p) => {
      encodeMatmul(dev, p, { a: x, b: x, c: y }, { m: 8, n: 8, k: 44 });
      encodeMatmul(dev, p, { a: x, b: x, c: y }, { m: 8, n: 8, k: 45 });
      encodeMatmul(dev, p, { a: x, b: x, c: y }, { m: 8, n: 8, k: 44, transA: true });
      encodeMatmul(dev, p, { a: x, b: x, c: y }, { m: 8, n: 8, k: 44, transB: true });
    });
    stop2();
    await dev.queue.onSubmittedWorkDone();
    expect(picked).toEqual(['matmul-vec4', 'matmul', 'matmul', 'matmul']);
  });

  it('compiles each variant once', async () => {
    const before = pipelineCount(dev);
    const x = uploadF32(alloc, randn(6, 1)), w = uploadF32(alloc, randn(6, 2)), y = zerosF32(alloc, 4);
    submitPass(dev, (p) => {
      for (let r = 0; r < 3; r++) encodeLinearForward(dev, p, { x, w, y }, { n: 2, inDim: 3, outDim: 2 });
    });
    await dev.queue.onSubmittedWorkDone();
    expect(pipelineCount(dev) - before).toBeLessThanOrEqual(1);
  });

  it('makes each bind group once: the same dispatch on the same buffers reuses it', async () => {
    const x = uploadF32(alloc, randn(6, 1)), w = uploadF32(alloc, randn(6, 2)), y = zerosF32(alloc, 4);
    submitPass(dev, (p) => encodeLinearForward(dev, p, { x, w, y }, { n: 2, inDim: 3, outDim: 2 }));
    const before = bindGroupCount(dev);
    submitPass(dev, (p) => {
      for (let r = 0; r < 3; r++) encodeLinearForward(dev, p, { x, w, y }, { n: 2, inDim: 3, outDim: 2 });
    });
    await dev.queue.onSubmittedWorkDone();
    expect(bindGroupCount(dev)).toBe(before);
  });

  // The fused epilogues against the CPU twins they replace: matmul then add / QuickGELU / QuickGELU backward. One
  // case runs all three (and the plain pre-activation) and returns the kernels it dispatched and each relative error.
  async function fusedEpilogues(n: number, i: number, o: number, seed: number) {
    const x = f32(randn(n * i, seed));
    const w = f32(randn(i * o, seed + 1, 0.2));
    const b = f32(randn(o, seed + 2));
    const r = f32(randn(n * o, seed + 3));
    const dy = f32(randn(n * o, seed + 4));
    const fpre = f32(randn(n * i, seed + 5, 2));
    const lin = linearForwardCpu(x, w, b, n, i, o);
    const wantRes = addCpu(r, lin);
    const wantGelu = quickGeluForwardCpu(lin);
    const wantDf = quickGeluBackwardCpu(linearBackwardCpu(dy, w, n, i, o), fpre);
    const bx = uploadF32(alloc, x), bw = uploadF32(alloc, w), bb = uploadF32(alloc, b), br = uploadF32(alloc, r);
    const bdy = uploadF32(alloc, dy), bf = uploadF32(alloc, fpre);
    const yRes = zerosF32(alloc, n * o), yPre = zerosF32(alloc, n * o), yG = zerosF32(alloc, n * o), dF = zerosF32(alloc, n * i);
    const keys: string[] = [];
    const stop = onDispatch(dev, (d) => keys.push(d.key));
    const [gotRes, gotPre, gotG, gotDf] = await withValidation(dev, async () => {
      submitPass(dev, (p) => {
        encodeLinearForward(dev, p, { x: bx, w: bw, b: bb, y: yRes, residual: br }, { n, inDim: i, outDim: o });
        encodeLinearForward(dev, p, { x: bx, w: bw, b: bb, y: yPre, gelu: yG }, { n, inDim: i, outDim: o });
        encodeLinearBackward(dev, p, { dy: bdy, w: bw, dx: dF, geluGradOf: bf }, { n, inDim: i, outDim: o });
      });
      return Promise.all([readF32(dev, yRes), readF32(dev, yPre), readF32(dev, yG), readF32(dev, dF)]);
    });
    stop();
    return {
      kernels: keys.map((k) => k.split(':')[0]),
      residual: relErr(gotRes, wantRes),
      pre: relErr(gotPre, lin),
      gelu: relErr(gotG, wantGelu),
      geluGrad: relErr(gotDf, wantDf),
    };
  }

  it('fused epilogues: Y = R + X·W + b, (Y, QuickGELU(Y)) and (dY·Wᵀ) ⊙ QuickGELU\'(F), N=37 in=45 out=70', async () => {
    const e = await fusedEpilogues(37, 45, 70, 20);
    expect(report('matmul + residual', e.residual)).toBeLessThan(1e-5);
    expect(report('matmul pre-activation', e.pre)).toBeLessThan(1e-5);
    expect(report('matmul + QuickGELU', e.gelu)).toBeLessThan(1e-5);
    expect(report('matmul backward ⊙ QuickGELU\'', e.geluGrad)).toBeLessThan(1e-5);
  });

  it('fused epilogues as auto picks them (in=44, out=72: vec4 forward, tiled transposed backward), N=37', async () => {
    const e = await fusedEpilogues(37, 44, 72, 120);
    expect(e.kernels).toEqual(['matmul-vec4', 'matmul-vec4', 'matmul']);
    expect(report('vec4 matmul + residual', e.residual)).toBeLessThan(1e-5);
    expect(report('vec4 matmul pre-activation', e.pre)).toBeLessThan(1e-5);
    expect(report('vec4 matmul + QuickGELU', e.gelu)).toBeLessThan(1e-5);
    expect(report('tiled matmul backward ⊙ QuickGELU\'', e.geluGrad)).toBeLessThan(1e-5);
  });
});
