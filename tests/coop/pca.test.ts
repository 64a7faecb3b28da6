import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fitPca2, projectPca2, rowMean } from '../../src/coop/pca';

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

/** Covariance (divided by n) of row-major rows, as a dense matrix. */
function covariance(x: number[], n: number, d: number): number[][] {
  const m = rowMean(x, n, d);
  const c = Array.from({ length: d }, () => new Array<number>(d).fill(0));
  for (let r = 0; r < n; r++) for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) c[i][j] += ((x[r * d + i] - m[i]) * (x[r * d + j] - m[j])) / n;
  return c;
}

/** Reference eigenvalues of a symmetric matrix by cyclic Jacobi rotations (descending). */
function jacobiEigenvalues(a0: number[][]): number[] {
  const a = a0.map((r) => [...r]);
  const d = a.length;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += a[p][q] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < d; p++) {
      for (let q = p + 1; q < d; q++) {
        if (Math.abs(a[p][q]) < 1e-300) continue;
        const theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < d; k++) {
          const akp = a[k][p];
          const akq = a[k][q];
          a[k][p] = c * akp - s * akq;
          a[k][q] = s * akp + c * akq;
        }
        for (let k = 0; k < d; k++) {
          const apk = a[p][k];
          const aqk = a[q][k];
          a[p][k] = c * apk - s * aqk;
          a[q][k] = s * apk + c * aqk;
        }
      }
    }
  }
  return a.map((r, i) => r[i]).sort((x, y) => y - x);
}

describe('PCA (two leading axes by power iteration)', () => {
  it('finds planted axes and their exact variances', () => {
    // Three orthonormal directions in 12-D (Gram-Schmidt of fixed vectors); rows are every ±1 combination of
    // 3·u1, 1.5·u2 and 0.3·u3 around an offset, so the variances are exactly 9, 2.25 and 0.09.
    const d = 12;
    const raw = [0, 1, 2].map((k) => Array.from({ length: d }, (_, i) => Math.sin(1 + i * (k + 2) + k * k)));
    const u: number[][] = [];
    for (const r of raw) {
      const v = [...r];
      for (const b of u) {
        const p = dot(v, b);
        for (let i = 0; i < d; i++) v[i] -= p * b[i];
      }
      const n = Math.sqrt(dot(v, v));
      u.push(v.map((x) => x / n));
    }
    const rows: number[] = [];
    for (const a of [-1, 1]) for (const b of [-1, 1]) for (const c of [-1, 1]) for (let i = 0; i < d; i++) rows.push(0.5 + 3 * a * u[0][i] + 1.5 * b * u[1][i] + 0.3 * c * u[2][i]);
    const p = fitPca2(rows, 8, d);
    expect(p.variances[0]).toBeCloseTo(9, 9);
    expect(p.variances[1]).toBeCloseTo(2.25, 9);
    expect(Math.abs(dot(p.axes[0], u[0]))).toBeCloseTo(1, 9);
    expect(Math.abs(dot(p.axes[1], u[1]))).toBeCloseTo(1, 9);
    for (let i = 0; i < d; i++) expect(p.mean[i]).toBeCloseTo(0.5, 5);
    // The coordinates are the ±3 / ±1.5 the rows were built from (up to each axis's sign).
    const xy = projectPca2(p, rows, 8);
    for (let r = 0; r < 8; r++) {
      expect(Math.abs(xy[2 * r])).toBeCloseTo(3, 5);
      expect(Math.abs(xy[2 * r + 1])).toBeCloseTo(1.5, 5);
    }
  });

  it('matches the covariance eigenvalues of a Jacobi reference on random data, with orthonormal axes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 7 }),
        fc.integer({ min: 3, max: 25 }),
        fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 25 * 7, maxLength: 25 * 7 }),
        (d, n, pool) => {
          const x = pool.slice(0, n * d);
          const p = fitPca2(x, n, d, { maxIterations: 20000, tolerance: 1e-14 });
          const ref = jacobiEigenvalues(covariance(x, n, d));
          const scale = Math.max(ref[0], 1e-12);
          expect(Math.abs(p.variances[0] - ref[0]) / scale).toBeLessThan(1e-6);
          expect(Math.abs(p.variances[1] - ref[1]) / scale).toBeLessThan(1e-6);
          expect(dot(p.axes[0], p.axes[0])).toBeCloseTo(1, 9);
          expect(dot(p.axes[1], p.axes[1])).toBeCloseTo(1, 9);
          expect(Math.abs(dot(p.axes[0], p.axes[1]))).toBeLessThan(1e-9);
        },
      ),
      { numRuns: 60, seed: 21 },
    );
  });

  it('is deterministic and gives each axis a fixed sign', () => {
    const x = Array.from({ length: 40 * 5 }, (_, i) => Math.cos(i * 0.7) * (1 + (i % 5)));
    const a = fitPca2(x, 40, 5);
    const b = fitPca2(x.slice(), 40, 5);
    expect([...a.axes[0]]).toEqual([...b.axes[0]]);
    for (const axis of a.axes) {
      const big = [...axis].reduce((best, v, i) => (Math.abs(v) > Math.abs(axis[best]) ? i : best), 0);
      expect(axis[big]).toBeGreaterThan(0);
    }
  });

  it('copes with rows that are all equal and refuses too few values', () => {
    const p = fitPca2(new Float32Array(12).fill(1), 3, 4);
    expect(p.variances).toEqual([0, 0]);
    expect(Math.abs(dot(p.axes[0], p.axes[1]))).toBeLessThan(1e-9);
    expect(() => fitPca2([1, 2, 3], 2, 2)).toThrow(/PCA needs 2 rows of 2 values; got 3 values/);
  });
});
