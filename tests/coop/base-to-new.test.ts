import { describe, expect, it } from 'vitest';
import { baseToNewProblems, baseToNewScores, classSplitFirst, classSplitFromMarks, pickRows, subsetClasses } from '../../src/coop/base-to-new';
import { accuracyColumns, harmonicMean } from '../../src/coop/results-table';

describe('base-to-new split and scoring (CoCoOp protocol)', () => {
  it('splits classes by marks or by count, in label order', () => {
    expect(classSplitFromMarks([false, true, false, true])).toEqual({ base: [0, 2], new: [1, 3] });
    expect(classSplitFirst(5, 2)).toEqual({ base: [0, 1], new: [2, 3, 4] });
    expect(classSplitFromMarks([false, false])).toEqual({ base: [0, 1], new: [] });
  });

  it('refuses no base class and class-specific context, each with what to do; nothing marked is no problem', () => {
    expect(baseToNewProblems({ base: [], new: [0, 1] }, false)).toEqual([
      'Every class is marked "new": keep at least one base class to train on (new classes are left out of training).',
    ]);
    expect(baseToNewProblems({ base: [0], new: [1] }, true)[0]).toMatch(/^Class-specific context \(CSC\).*turn CSC off/);
    expect(baseToNewProblems({ base: [0], new: [1] }, false)).toEqual([]);
    expect(baseToNewProblems({ base: [0, 1], new: [] }, true)).toEqual([]);
  });

  it('keeps the rows of the chosen classes, relabelled by position among them', () => {
    const s = { name: 'test', features: Float32Array.from([0, 0, 1, 1, 2, 2, 3, 3]), labels: Int32Array.from([2, 0, 3, 2]) };
    const sub = subsetClasses(s, [3, 2], 2);
    expect(sub.name).toBe('test');
    expect(Array.from(sub.labels)).toEqual([1, 0, 1]);
    expect(Array.from(sub.features)).toEqual([0, 0, 2, 2, 3, 3]);
    expect(Array.from(pickRows(Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 0], 2))).toEqual([5, 6, 1, 2]);
  });

  it('scores base rows among base classes and new rows among new classes, each with its own predictor', () => {
    // 1-d features: the class is round(feature) (0..3); base {0, 2}, new {1, 3}.
    const sets = [{ name: 'test', features: Float32Array.from([0, 1, 2, 3, 2, 1]), labels: Int32Array.from([0, 1, 2, 3, 0, 3]) }];
    const seen: number[][] = [];
    // Base predictor: right for class 0 and 2 by value; new predictor: always position 0 (class 1).
    const base = (f: Float32Array) => (seen.push(Array.from(f)), Int32Array.from(f, (x) => (x >= 1 ? 1 : 0)));
    const nw = (f: Float32Array) => (seen.push(Array.from(f)), new Int32Array(f.length));
    const r = baseToNewScores(sets, classSplitFromMarks([false, true, false, true]), 1, base, nw);
    expect(seen).toEqual([[0, 2, 2], [1, 3, 1]]);
    // Base rows: labels [0, 2, 0] → positions [0, 1, 0], predicted [0, 1, 1]: 2 of 3.
    expect(r.accuracies['test/base']).toBeCloseTo(2 / 3, 12);
    // New rows: labels [1, 3, 3] → positions [0, 1, 1], predicted [0, 0, 0]: 1 of 3.
    expect(r.accuracies['test/new']).toBeCloseTo(1 / 3, 12);
    expect(Array.from(r.predictions['test/base'])).toEqual([0, 1, 1]);
    const probe = baseToNewScores(sets, classSplitFromMarks([false, true, false, true]), 1, base, null);
    expect(Object.keys(probe.accuracies)).toEqual(['test/base']);
  });

  it("the methods table's columns: plain splits, then base, new and H per base-to-new split; H only with both", () => {
    const coop = { train: 0.9, 'test/base': 0.8, 'test/new': 0.5, 'shifted/base': 0.6 };
    const probe = { train: 1, 'test/base': 0.7 };
    const cols = accuracyColumns([coop, probe]);
    expect(cols.map((c) => c.label)).toEqual(['train', 'test base', 'test new', 'test H', 'shifted base', 'shifted new', 'shifted H']);
    const h = cols.find((c) => c.key === 'test/H')!;
    expect(h.value(coop)).toBeCloseTo(harmonicMean(0.8, 0.5), 12);
    expect(h.value(coop)).toBeCloseTo((2 * 0.8 * 0.5) / 1.3, 12);
    expect(h.value(probe)).toBeUndefined();
    expect(cols.find((c) => c.key === 'shifted/H')!.value(coop)).toBeUndefined();
    expect(accuracyColumns([{ train: 1, test: 0.5 }]).map((c) => c.label)).toEqual(['train', 'test']);
  });
});
