import { describe, expect, it } from 'vitest';
import { buildBaseToNew, buildTable, formatCell, harmonicMean, meanStd, tableMarkdown, type RunRecord } from '../../src/coop/results-table';

const rec = (shots: number, method: string, seed: number, test: number, shifted?: number): RunRecord => ({
  shots,
  method,
  seed,
  accuracy: shifted === undefined ? { test } : { test, shifted },
});

describe('results table', () => {
  it('population std (ddof 0) as numpy, like the reference numbers', () => {
    const { mean, std } = meanStd([1, 2, 3, 4]);
    expect(mean).toBe(2.5);
    expect(std).toBeCloseTo(Math.sqrt(1.25), 12);
  });

  it('one block per shot count, rows in the given order, cells in % with mean ± std over seeds', () => {
    const records = [
      rec(2, 'CoOp', 1, 0.5, 0.2),
      rec(1, 'zero-shot', 0, 0.075, 0.13),
      rec(1, 'CoOp', 2, 0.6, 0.3),
      rec(1, 'CoOp', 1, 0.4, 0.1),
      rec(2, 'zero-shot', 0, 0.075, 0.13),
    ];
    const t = buildTable(records, ['test', 'shifted'], ['zero-shot', 'linear probe', 'CoOp']);
    expect(t.blocks.map((b) => b.shots)).toEqual([1, 2]);
    expect(t.blocks[0].rows.map((r) => r.method)).toEqual(['zero-shot', 'CoOp']);
    const coop = t.blocks[0].rows[1].cells.test!;
    expect(coop.runs).toEqual([40, 60]);
    expect(coop.seeds).toEqual([1, 2]);
    expect(coop.mean).toBeCloseTo(50, 12);
    expect(coop.std).toBeCloseTo(10, 12);
    expect(formatCell(coop)).toBe('50.0 ± 10.0');
    expect(formatCell(t.blocks[0].rows[0].cells.test)).toBe('7.5');
    const md = tableMarkdown(t);
    expect(md).toContain('### 1 shot\n');
    expect(md).toContain('### 2 shots\n');
    expect(md).toContain('| method | test | shifted |');
    expect(md).toContain('| CoOp | 50.0 ± 10.0 | 20.0 ± 10.0 |');
  });

  it('a split a run did not score shows as a dash', () => {
    const t = buildTable([rec(1, 'CoOp', 1, 0.5)], ['test', 'shifted']);
    expect(t.blocks[0].rows[0].cells.shifted).toBeNull();
    expect(tableMarkdown(t)).toContain('| CoOp | 50.0 | — |');
  });

  it('base-to-new: base, new and the harmonic mean of the means', () => {
    const rows = buildBaseToNew(
      [
        { shots: 16, method: 'CoOp', seed: 1, accuracy: { 'test/base': 0.9, 'test/new': 0.5 } },
        { shots: 16, method: 'CoOp', seed: 2, accuracy: { 'test/base': 1.0, 'test/new': 0.7 } },
      ],
      ['test'],
    );
    const c = rows[0].splits.test;
    expect(c.base!.mean).toBeCloseTo(95, 12);
    expect(c.new!.mean).toBeCloseTo(60, 12);
    expect(c.h).toBeCloseTo(harmonicMean(95, 60), 12);
    expect(harmonicMean(95, 60)).toBeCloseTo((2 * 95 * 60) / 155, 12);
  });
});
