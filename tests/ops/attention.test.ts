import { afterAll, describe, expect, it } from 'vitest';
import { attentionBackwardCpu, attentionForwardCpu, type AttentionDims } from '../../src/engine/ops/attention/cpu';
import { attentionScratchFloats, encodeAttentionBackward, encodeAttentionForward } from '../../src/engine/ops/attention/gpu';
import { GpuAllocator } from '../../src/engine/gpu/allocator';
import { getTestDevice, GPU_ENV_HINT } from '../helpers/webgpu';
import { f32, randn } from '../helpers/random';
import { gradCheck } from '../helpers/gradcheck';
import { relErr, report } from '../helpers/compare';
import { runAndRead, uploadF32, zerosF32 } from '../helpers/buffers';

function inputs(dims: AttentionDims, seed: number) {
  const d = dims.h * dims.dh;
  const own = dims.b * dims.t * d;
  return {
    q: randn(own, seed), k: randn(own, seed + 1), v: randn(own, seed + 2),
    kp: randn(dims.p * d, seed + 3), vp: randn(dims.p * d, seed + 4),
  };
}

describe('attention (CPU twin)', () => {
  for (const p of [0, 3]) {
    it(`backward matches central differences, P=${p} (Float64)`, () => {
      const dims = { b: 2, t: 4, p, h: 2, dh: 3 };
      const x = inputs(dims, 10);
      const all = [x.q, x.k, x.v, x.kp, x.vp];
      const { relErrors } = gradCheck(
        all,
        ([q, k, v, kp, vp]) => attentionForwardCpu({ q, k, v, kp, vp }, dims),
        ([q, k, v, kp, vp], dO) => {
          const o = attentionForwardCpu({ q, k, v, kp, vp }, dims);
          const g = attentionBackwardCpu({ q, k, v, kp, vp }, o, dO, dims);
          return [g.dq, g.dk, g.dv, g.dkp, g.dvp];
        },
        { which: p > 0 ? [0, 1, 2, 3, 4] : [0, 1, 2] },
      );
      relErrors.forEach((e, i) => expect(report(`attention cpu P=${p} grad ${['dq', 'dk', 'dv', 'dkp', 'dvp'][i]} vs FD`, e)).toBeLessThan(1e-6));
    });
  }

  it('shared-prefix path equals naive causal attention over [prefix; own] with summed prefix grads', () => {
    const dims = { b: 3, t: 5, p: 4, h: 2, dh: 3 };
    const d = dims.h * dims.dh;
    const x = inputs(dims, 20);
    const qp = randn(dims.p * d, 30); // prefix queries: identical in every prompt, as in the engine
    const dO = randn(dims.b * dims.t * d, 31);
    const o = attentionForwardCpu(x, dims);
    const g = attentionBackwardCpu(x, o, dO, dims);

    // Naive: every prompt carries its own copy of the prefix rows, plain causal attention over P+T.
    const L = dims.p + dims.t;
    const naive = { b: dims.b, t: L, p: 0, h: dims.h, dh: dims.dh };
    const cat = (pre: Float64Array, own: Float64Array) => {
      const out = new Float64Array(dims.b * L * d);
      for (let b = 0; b < dims.b; b++) {
        out.set(pre, b * L * d);
        out.set(own.subarray(b * dims.t * d, (b + 1) * dims.t * d), (b * L + dims.p) * d);
      }
      return out;
    };
    const nx = { q: cat(qp, x.q), k: cat(x.kp, x.k), v: cat(x.vp, x.v) };
    const nO = attentionForwardCpu(nx, naive);
    const ndO = cat(new Float64Array(dims.p * d), dO); // prefix outputs are not part of this op's loss
    const ng = attentionBackwardCpu(nx, nO, ndO, naive);

    const ownRows = (a: ArrayLike<number>) => {
      const out = new Float64Array(dims.b * dims.t * d);
      for (let b = 0; b < dims.b; b++) for (let i = 0; i < dims.t * d; i++) out[b * dims.t * d + i] = a[(b * L + dims.p) * d + i];
      return out;
    };
    const prefixSum = (a: ArrayLike<number>) => {
      const out = new Float64Array(dims.p * d);
      for (let b = 0; b < dims.b; b++) for (let i = 0; i < dims.p * d; i++) out[i] += a[b * L * d + i];
      return out;
    };
    expect(relErr(o, ownRows(nO))).toBeLessThan(1e-12);
    expect(relErr(g.dq, ownRows(ng.dq))).toBeLessThan(1e-12);
    expect(relErr(g.dk, ownRows(ng.dk))).toBeLessThan(1e-12);
    expect(relErr(g.dv, ownRows(ng.dv))).toBeLessThan(1e-12);
    expect(relErr(g.dkp, prefixSum(ng.dk))).toBeLessThan(1e-12);
    expect(relErr(g.dvp, prefixSum(ng.dv))).toBeLessThan(1e-12);
  });
});

const device = await getTestDevice();
if (!device) console.warn(`attention GPU tests skipped. ${GPU_ENV_HINT}`);

describe.skipIf(!device)('attention (WGSL vs CPU)', () => {
  const dev = device!;
  const alloc = device ? new GpuAllocator(dev) : (undefined as unknown as GpuAllocator);
  afterAll(() => alloc?.destroyAll());

  for (const p of [0, 7]) {
    it(`forward + backward B=3 T=19 P=${p} H=2 dh=16`, async () => {
      const dims = { b: 3, t: 19, p, h: 2, dh: 16 };
      const d = dims.h * dims.dh;
      const x = inputs(dims, 40 + p);
      const X = { q: f32(x.q), k: f32(x.k), v: f32(x.v), kp: f32(x.kp), vp: f32(x.vp) };
      const dO = f32(randn(dims.b * dims.t * d, 50));
      const o = attentionForwardCpu(X, dims);
      const g = attentionBackwardCpu(X, o, dO, dims);
      const own = dims.b * dims.t * d;
      const bq = uploadF32(alloc, X.q), bk = uploadF32(alloc, X.k), bv = uploadF32(alloc, X.v);
      const bkp = p > 0 ? uploadF32(alloc, X.kp) : undefined, bvp = p > 0 ? uploadF32(alloc, X.vp) : undefined;
      const bo = zerosF32(alloc, own), bdO = uploadF32(alloc, dO), bs = zerosF32(alloc, attentionScratchFloats(dims));
      const bdq = zerosF32(alloc, own), bdk = zerosF32(alloc, own), bdv = zerosF32(alloc, own);
      const bdkp = zerosF32(alloc, Math.max(1, p * d)), bdvp = zerosF32(alloc, Math.max(1, p * d));
      const [go, gdq, gdk, gdv, gdkp, gdvp] = await runAndRead(
        dev,
        (pass) => {
          encodeAttentionForward(dev, pass, { q: bq, k: bk, v: bv, kp: bkp, vp: bvp, o: bo }, dims);
          encodeAttentionBackward(
            dev,
            pass,
            { q: bq, k: bk, v: bv, kp: bkp, vp: bvp, o: bo, dO: bdO, scratch: bs, dq: bdq, dk: bdk, dv: bdv, dkp: bdkp, dvp: bdvp },
            dims,
          );
        },
        [bo, bdq, bdk, bdv, bdkp, bdvp],
      );
      expect(report(`attention P=${p} o`, relErr(go, o))).toBeLessThan(1e-5);
      expect(report(`attention P=${p} dq`, relErr(gdq, g.dq))).toBeLessThan(1e-4);
      expect(report(`attention P=${p} dk`, relErr(gdk, g.dk))).toBeLessThan(1e-4);
      expect(report(`attention P=${p} dv`, relErr(gdv, g.dv))).toBeLessThan(1e-4);
      if (p > 0) {
        expect(report(`attention P=${p} dkp`, relErr(gdkp, g.dkp))).toBeLessThan(1e-4);
        expect(report(`attention P=${p} dvp`, relErr(gdvp, g.dvp))).toBeLessThan(1e-4);
      }
    });
  }
});
