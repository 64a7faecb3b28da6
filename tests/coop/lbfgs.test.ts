import { describe, expect, it } from 'vitest';
import { lbfgs } from '../../src/coop/lbfgs';

describe('L-BFGS', () => {
  it("minimizes an ill-conditioned quadratic (to PyTorch's tolerance_change, which stops it near 1e-5)", () => {
    const a = [1, 10, 100, 1000];
    const c = [1, -2, 3, -4];
    const res = lbfgs((x, g) => {
      let f = 0;
      for (let i = 0; i < 4; i++) {
        f += 0.5 * a[i] * (x[i] - c[i]) ** 2;
        g[i] = a[i] * (x[i] - c[i]);
      }
      return f;
    }, new Float64Array(4));
    expect(res.converged).toBe(true);
    [...res.x].forEach((v, i) => expect(v).toBeCloseTo(c[i], 4));
  });

  it('finds the Rosenbrock minimum', () => {
    const res = lbfgs((x, g) => {
      const [p, q] = x;
      g[0] = -2 * (1 - p) - 400 * p * (q - p * p);
      g[1] = 200 * (q - p * p);
      return (1 - p) ** 2 + 100 * (q - p * p) ** 2;
    }, Float64Array.of(-1.2, 1), { maxIter: 500 });
    expect(res.x[0]).toBeCloseTo(1, 4);
    expect(res.x[1]).toBeCloseTo(1, 4);
  });
});
