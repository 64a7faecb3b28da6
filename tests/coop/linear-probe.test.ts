import { describe, expect, it } from 'vitest';
import { alternatingFolds, fitLinearProbe, linearProbe, probePredict, PROBE_LAMBDAS } from '../../src/coop/linear-probe';
import { accuracy } from '../../src/coop/metrics';
import { createRng } from '../../src/coop/random';
import { normalizeRows } from '../../src/coop/zero-shot';

/** K noisy clusters on the unit sphere in E dimensions, `per` images each, classes interleaved. */
function toy(k: number, e: number, per: number, noise: number, seed: number) {
  const rng = createRng(seed);
  const centers = Array.from({ length: k }, () => Array.from({ length: e }, () => rng.normal()));
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < per; i++) {
    for (let c = 0; c < k; c++) {
      x.push(...centers[c].map((v) => v + noise * rng.normal()));
      y.push(c);
    }
  }
  return { x: normalizeRows(x, e), y: Int32Array.from(y) };
}

describe('linear probe', () => {
  it('separates a toy dataset and generalizes to held-out images', () => {
    const train = toy(4, 16, 8, 0.6, 1);
    const test = toy(4, 16, 30, 0.6, 1); // same centres (same seed draws them first), more noisy samples
    const res = linearProbe(train.x, train.y, 16, 4);
    expect(accuracy(probePredict(res.model, train.x), train.y)).toBe(1);
    expect(accuracy(probePredict(res.model, test.x), test.y)).toBeGreaterThan(0.9);
    expect(res.cvScores).toHaveLength(4);
    expect(PROBE_LAMBDAS).toContain(res.model.lambda);
    expect(res.model.lambda).toBe(PROBE_LAMBDAS[res.cvScores.indexOf(Math.max(...res.cvScores))]);
  });

  it('L-BFGS reaches the optimum: the loss is no higher than long plain gradient descent, and the gradient vanishes', () => {
    const { x, y } = toy(3, 6, 5, 1.0, 2);
    const lambda = 1e-2;
    const fit = fitLinearProbe(x, y, 6, 3, lambda);
    expect(fit.converged).toBe(true);
    // Gradient descent on the same objective, written independently; it needs ~10⁵ steps where L-BFGS takes ~30.
    const W = new Float64Array(18), b = new Float64Array(3);
    const loss = () => {
      let l = 0;
      const gW = new Float64Array(18), gb = new Float64Array(3);
      for (let r = 0; r < y.length; r++) {
        const z = [0, 1, 2].map((c) => b[c] + [0, 1, 2, 3, 4, 5].reduce((s, e) => s + 10 * x[r * 6 + e] * W[e * 3 + c], 0));
        const m = Math.max(...z);
        const p = z.map((v) => Math.exp(v - m));
        const sum = p.reduce((s, v) => s + v, 0);
        l += Math.log(sum) + m - z[y[r]];
        for (let c = 0; c < 3; c++) {
          const d = (p[c] / sum - (c === y[r] ? 1 : 0)) / y.length;
          gb[c] += d;
          for (let e = 0; e < 6; e++) gW[e * 3 + c] += 10 * x[r * 6 + e] * d;
        }
      }
      l /= y.length;
      for (let i = 0; i < 18; i++) {
        l += lambda * W[i] ** 2;
        gW[i] += 2 * lambda * W[i];
      }
      return { l, gW, gb };
    };
    let last = 0;
    for (let it = 0; it < 200000; it++) {
      const { l, gW, gb } = loss();
      last = l;
      for (let i = 0; i < 18; i++) W[i] -= 0.02 * gW[i];
      for (let c = 0; c < 3; c++) b[c] -= 0.02 * gb[c];
    }
    expect(fit.loss).toBeLessThanOrEqual(last + 1e-6);
    expect(fit.loss).toBeCloseTo(last, 5);
    W.set(fit.model.weights);
    b.set(fit.model.bias);
    const { gW } = loss();
    expect(Math.max(...gW.map(Math.abs))).toBeLessThan(1e-4);
  });

  it('one shot per class: no cross-validation, λ = 1e-3', () => {
    const { x, y } = toy(3, 8, 1, 0.1, 3);
    const res = linearProbe(x, y, 8, 3);
    expect(res.cvScores).toEqual([]);
    expect(res.model.lambda).toBe(1e-3);
    expect(accuracy(probePredict(res.model, x), y)).toBe(1);
  });

  it('folds alternate within each class, in the given order', () => {
    expect(alternatingFolds([0, 0, 1, 0, 1, 1, 0], 2)).toEqual([true, false, true, true, false, true, false]);
  });
});
