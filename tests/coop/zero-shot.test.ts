import { describe, expect, it } from 'vitest';
import { ensembleTextFeatures, normalizeRows, softmaxRows, zeroShotLogits, zeroShotProbabilities } from '../../src/coop/zero-shot';

describe('zero-shot', () => {
  it('scores logit_scale · cosine, normalizing both sides', () => {
    const img = [3, 4, 0, 0, 0, 2];
    const txt = [1, 0, 0, 0, 1, 0, 0, 0, 5];
    const l = zeroShotLogits(img, txt, 3, 100);
    expect([...l].map((v) => +v.toFixed(4))).toEqual([60, 80, 0, 0, 0, 100]);
    const p = zeroShotProbabilities(img, txt, 3, 100);
    expect(p[1]).toBeGreaterThan(0.99);
    expect(p.slice(0, 3).reduce((s, v) => s + v, 0)).toBeCloseTo(1, 6);
  });

  it('ensembling: mean of normalized features, renormalized', () => {
    // Class 0: templates give (2, 0) and (0, 5) → normalized (1, 0), (0, 1) → mean (0.5, 0.5) → (0.7071, 0.7071).
    const e = ensembleTextFeatures([[2, 0, 0, 1], [0, 5, 0, 3]], 2);
    expect(e[0]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(e[1]).toBeCloseTo(Math.SQRT1_2, 6);
    expect([e[2], e[3]]).toEqual([0, 1]);
  });

  it('softmax is stable for large logits and normalizeRows leaves zero rows at zero', () => {
    expect([...softmaxRows([1000, 1000], 2)]).toEqual([0.5, 0.5]);
    expect([...normalizeRows([0, 0, 3, 4], 2)]).toEqual([0, 0, 0.6000000238418579, 0.800000011920929]);
  });
});
