import { describe, expect, it } from 'vitest';
import { emaSmooth } from '../src/app/train/ema';

describe('loss chart smoothing (TensorBoard EMA)', () => {
  it('is debiased: a constant stays constant, w = 0 is the raw line', () => {
    expect(emaSmooth([2, 2, 2], 0.9).map((x) => Number(x.toFixed(12)))).toEqual([2, 2, 2]);
    expect(emaSmooth([1, 5, 3], 0)).toEqual([1, 5, 3]);
  });

  it('follows the recurrence; a NaN is passed through and skipped', () => {
    const w = 0.6;
    const s = emaSmooth([1, 3, NaN, 2], w);
    const l1 = (1 - w) * 1;
    const l2 = w * l1 + (1 - w) * 3;
    const l3 = w * l2 + (1 - w) * 2;
    expect(s[0]).toBeCloseTo(l1 / (1 - w), 12);
    expect(s[1]).toBeCloseTo(l2 / (1 - w ** 2), 12);
    expect(Number.isNaN(s[2])).toBe(true);
    expect(s[3]).toBeCloseTo(l3 / (1 - w ** 3), 12);
    expect(() => emaSmooth([1], 1)).toThrow(/\[0, 1\)/);
  });
});
