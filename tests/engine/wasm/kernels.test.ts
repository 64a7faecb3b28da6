/**
 * Every WASM SIMD kernel (src/engine/wasm/assembly/kernels.ts) against its JavaScript twin (f64 accumulation) on
 * ragged shapes: rows and columns that are not multiples of the 6×8 micro-kernel's tile, both transposes, alpha,
 * bias, accumulate, batches; layer norm, QuickGELU, the residual add and attention with and without a shared
 * prefix, forward and backward. On one thread and on three (the caller and two workers over shared memory), and
 * with relaxed SIMD's FMA where this runtime has it: Node 20 has not, so the file also runs in Chromium (vitest's
 * browser project), which has.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { WasmKernels } from '../../../src/engine/wasm/kernels';
import { relaxedSimdSupported } from '../../../src/engine/wasm/module';
import { referenceKernels } from '../../../src/engine/ops/kernels';
import type { MatmulShape } from '../../../src/engine/ops/matmul/cpu';
import { f32, randn } from '../../helpers/random';
import { relErr, report } from '../../helpers/compare';

const one = await WasmKernels.create({ threads: 1, relaxed: false });
const three = await WasmKernels.create({ threads: 3, relaxed: false });
const relaxed = relaxedSimdSupported() ? await WasmKernels.create({ threads: 1, relaxed: true }) : null;
if (!relaxed) console.warn('relaxed SIMD is not available in this runtime (Node 20 has it only behind a flag): its kernels are checked in Chromium by the e2e');
afterAll(() => [one, three, relaxed].forEach((k) => k?.destroy()));

const sets = [
  ['1 thread', one],
  ['3 threads', three],
  ...(relaxed ? [['relaxed SIMD', relaxed] as const] : []),
] as const;

/** fp32 against f64-accumulated references: a few ulp of the sum's magnitude. */
const TOL = 2e-6;

describe.each(sets)('WASM kernels (%s) vs the JavaScript twins', (_, kern) => {
  it('matmul: ragged shapes, transposes, alpha, bias, accumulate, batches', () => {
    const cases: (MatmulShape & { bias?: boolean; accumulate?: boolean })[] = [
      { m: 1, n: 1, k: 1 },
      { m: 37, n: 70, k: 45 },
      { m: 5, n: 3, k: 200, transB: true, alpha: -0.5 },
      { m: 130, n: 33, k: 17, bias: true },
      { m: 66, n: 40, k: 24, transB: true, accumulate: true },
      { m: 13, n: 29, k: 31, transA: true, alpha: 3 },
      { m: 7, n: 9, k: 11, transA: true, transB: true, bias: true, accumulate: true },
      { m: 17, n: 512, k: 512, bias: true },
      { m: 50, n: 512, k: 2048, transB: true },
      { m: 6, n: 10, k: 8, batch: 3 },
      { m: 4, n: 5, k: 6, batch: 2, strideB: 0, transB: true },
    ];
    for (const [ci, s] of cases.entries()) {
      const batch = s.batch ?? 1;
      const a = f32(randn((batch - 1) * (s.strideA ?? s.m * s.k) + s.m * s.k, 10 + ci));
      const b = f32(randn((batch - 1) * (s.strideB ?? s.k * s.n) + s.k * s.n, 20 + ci));
      const bias = s.bias ? f32(randn(s.n, 30 + ci)) : undefined;
      const prior = f32(randn(batch * s.m * s.n, 40 + ci));
      const want = referenceKernels.matmul(a, b, s, bias, s.accumulate ? Float32Array.from(prior) : undefined);
      const got = kern.run(() => Float32Array.from(kern.matmul(a, b, s, bias, s.accumulate ? Float32Array.from(prior) : undefined)));
      expect(report(`matmul ${JSON.stringify(s)}`, relErr(got, want))).toBeLessThan(TOL * Math.sqrt(s.k));
    }
  });

  it('matmul accumulates into a view of its own memory in place', () => {
    const a = f32(randn(9 * 14, 1));
    const b = f32(randn(14 * 19, 2));
    const prior = f32(randn(9 * 19, 3));
    const want = referenceKernels.matmul(a, b, { m: 9, n: 19, k: 14 }, undefined, Float32Array.from(prior));
    const got = kern.run(() => {
      const c = kern.add(prior, new Float32Array(prior.length)); // a view of the arena
      const r = kern.matmul(a, b, { m: 9, n: 19, k: 14 }, undefined, c);
      expect(r).toBe(c);
      return Float32Array.from(r);
    });
    expect(relErr(got, want)).toBeLessThan(TOL);
  });

  it('layer norm forward and backward', () => {
    for (const [rows, d] of [[1, 4], [7, 37], [17, 512]]) {
      const x = f32(randn(rows * d, rows, 2));
      const g = f32(randn(d, 2, 0.3).map((v) => v + 1));
      const be = f32(randn(d, 3, 0.1));
      const dy = f32(randn(rows * d, 4));
      const want = referenceKernels.layerNormForward(x, g, be, rows, d);
      const wantDx = referenceKernels.layerNormBackward(dy, x, g, want.mean, want.rstd, rows, d);
      const got = kern.run(() => {
        const r = kern.layerNormForward(x, g, be, rows, d);
        const dx = kern.layerNormBackward(dy, x, g, r.mean, r.rstd, rows, d);
        return { y: Float32Array.from(r.y), mean: Float32Array.from(r.mean), rstd: Float32Array.from(r.rstd), dx: Float32Array.from(dx) };
      });
      expect(report(`layernorm y ${rows}x${d}`, relErr(got.y, want.y))).toBeLessThan(TOL * 4);
      expect(relErr(got.mean, want.mean)).toBeLessThan(TOL * 4);
      expect(relErr(got.rstd, want.rstd)).toBeLessThan(TOL * 4);
      expect(report(`layernorm dx ${rows}x${d}`, relErr(got.dx, wantDx))).toBeLessThan(TOL * 8);
    }
  });

  it('QuickGELU forward and backward (the SIMD exp), and the residual add', () => {
    // Values spanning the activations' range, and beyond it (exp's clamps).
    const x = f32([...randn(1021, 5, 4), -120, 120, 0, -0.5]);
    const dy = f32(randn(x.length, 6));
    const want = referenceKernels.quickGeluForward(x);
    const wantDx = referenceKernels.quickGeluBackward(dy, x);
    const got = kern.run(() => ({ y: Float32Array.from(kern.quickGeluForward(x)), dx: Float32Array.from(kern.quickGeluBackward(dy, x)) }));
    expect(report('quickgelu y', relErr(got.y, want))).toBeLessThan(TOL);
    expect(report('quickgelu dx', relErr(got.dx, wantDx))).toBeLessThan(TOL * 2);
    const sum = kern.run(() => Float32Array.from(kern.add(x, dy)));
    expect(relErr(sum, referenceKernels.add(x, dy))).toBeLessThan(1e-7);
    const acc = Float32Array.from(x);
    kern.addInPlace(acc, dy);
    expect(relErr(acc, referenceKernels.add(x, dy))).toBeLessThan(1e-7);
  });

  it('attention forward and backward, with and without a shared prefix', () => {
    for (const dims of [{ b: 3, t: 5, p: 0, h: 2, dh: 8 }, { b: 4, t: 3, p: 6, h: 3, dh: 6 }, { b: 2, t: 7, p: 17, h: 8, dh: 64 }]) {
      const d = dims.h * dims.dh;
      const len = dims.b * dims.t * d;
      const s = 7 * dims.p + dims.t;
      const x = {
        q: f32(randn(len, s)),
        k: f32(randn(len, s + 1)),
        v: f32(randn(len, s + 2)),
        kp: dims.p ? f32(randn(dims.p * d, s + 3)) : undefined,
        vp: dims.p ? f32(randn(dims.p * d, s + 4)) : undefined,
      };
      const dO = f32(randn(len, s + 5));
      const o = referenceKernels.attentionForward(x, dims);
      const g = referenceKernels.attentionBackward(x, o, dO, dims);
      const got = kern.run(() => {
        const go = kern.attentionForward(x, dims);
        const gg = kern.attentionBackward(x, go, dO, dims);
        return { o: Float32Array.from(go), ...Object.fromEntries(Object.entries(gg).map(([k, v]) => [k, Float32Array.from(v)])) } as Record<string, Float32Array>;
      });
      const tag = JSON.stringify(dims);
      expect(report(`attention o ${tag}`, relErr(got.o, o))).toBeLessThan(TOL * 4);
      for (const name of ['dq', 'dk', 'dv', ...(dims.p ? ['dkp', 'dvp'] : [])] as const) {
        expect(report(`attention ${name} ${tag}`, relErr(got[name], g[name as keyof typeof g]))).toBeLessThan(TOL * 8);
      }
    }
  });
});

// In a page that is not cross-origin isolated (vitest's browser project) there is no shared memory: one thread.
describe.skipIf(three.threads === 1)('WASM kernels: threads', () => {
  it('a product large enough is split over the workers, with the same result as one thread', () => {
    const s = { m: 50, n: 512, k: 512, transB: true };
    const a = f32(randn(s.m * s.k, 1));
    const b = f32(randn(s.k * s.n, 2));
    const before = three.pooled;
    const r3 = three.run(() => Float32Array.from(three.matmul(a, b, s)));
    expect(three.pooled).toBe(before + 1);
    const r1 = one.run(() => Float32Array.from(one.matmul(a, b, s)));
    // Each C element is one thread's 6×8 tile, summed in the same order: the same bits.
    expect(r3).toEqual(r1);
  });
});
