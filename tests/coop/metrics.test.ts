import { describe, expect, it } from 'vitest';
import { accuracy, argmaxRows, confusionMatrix, perClassAccuracy, scoreAccuracy } from '../../src/coop/metrics';

describe('metrics', () => {
  it('argmax keeps the first maximum, and accuracy counts hits', () => {
    expect([...argmaxRows([1, 3, 3, 5, 0, 0], 2, 3)]).toEqual([1, 0]);
    expect(accuracy([0, 1, 2, 2], [0, 1, 1, 2])).toBe(0.75);
    expect(scoreAccuracy([0.1, 0.9, 0.8, 0.2], [1, 1], 2)).toBe(0.5);
    expect(accuracy([], [])).toBe(0);
  });

  it('confusion matrix and per-class accuracy', () => {
    const pred = [0, 0, 1, 2, 2, 2];
    const y = [0, 1, 1, 2, 2, 0];
    expect(confusionMatrix(pred, y, 4)).toEqual([
      [1, 0, 1, 0],
      [1, 1, 0, 0],
      [0, 0, 2, 0],
      [0, 0, 0, 0],
    ]);
    const pc = perClassAccuracy(pred, y, 4);
    expect(pc.slice(0, 3)).toEqual([0.5, 0.5, 1]);
    expect(pc[3]).toBeNaN();
  });
});
