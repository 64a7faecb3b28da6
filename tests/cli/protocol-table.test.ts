/**
 * The protocols' table builder on hand-made records (fewshot's average column, xd's average over targets only), and
 * the published numbers kept as data: each H is the harmonic mean of its base and new, each average the mean of the
 * eleven datasets (a mistyped digit would break one of these).
 */
import { describe, expect, it } from 'vitest';
import published from '../../src/cli/datasets/published/cocoop-2022.json';
import { buildProtocolTable, protocolMarkdown, rowName } from '../../src/cli/datasets/protocol-table';

describe('protocol tables', () => {
  it('fewshot: datasets as columns, mean ± std over seeds, the average of the per-dataset means', () => {
    const rec = (seed: number, acc: number, method = 'CoOp unified end M16') => ({ shots: 4, seed, method, accuracy: { test: acc } });
    const t = buildProtocolTable('fewshot', [
      { dataset: 'dtd', records: [rec(1, 0.5), rec(2, 0.7), rec(0, 0.4, 'zero-shot CLIP ("{} texture.")')] },
      { dataset: 'eurosat', records: [rec(1, 0.9), rec(2, 0.9), rec(0, 0.3, 'zero-shot CLIP ("a centered satellite photo of {}.")')] },
    ]);
    expect(t.columns).toEqual(['dtd', 'eurosat', 'average']);
    const coop = t.blocks[0].rows.find((r) => r.method === 'CoOp unified end M16')!;
    expect(coop.cells.dtd!.mean).toBeCloseTo(60, 9);
    expect(coop.cells.dtd!.std).toBeCloseTo(10, 9);
    expect(coop.cells.average!.mean).toBeCloseTo(75, 9);
    expect(t.blocks[0].rows.find((r) => r.method === 'zero-shot CLIP')!.cells.average!.mean).toBeCloseTo(35, 9);
    expect(rowName('prompt ensembling (8 templates)')).toBe('prompt ensembling');
  });

  it('a time per run under each block, for the rows whose runs recorded one', () => {
    const rec = (seed: number, method: string, secs?: number) => ({ shots: 16, seed, method, accuracy: { test: 0.5 }, ...(secs === undefined ? {} : { train_seconds: secs }) });
    const t = buildProtocolTable('fewshot', [
      { dataset: 'dtd', records: [rec(1, 'CLAP', 1), rec(2, 'CLAP', 2), rec(1, 'CoOp', 100), rec(0, 'zero-shot CLIP ("{} texture.")')] },
      { dataset: 'eurosat', records: [rec(1, 'CLAP', 3), rec(1, 'CoOp', 200)] },
    ]);
    expect(t.blocks[0].rows.find((r) => r.method === 'CLAP')!.seconds).toBeCloseTo(2, 9);
    expect(t.blocks[0].rows.find((r) => r.method === 'zero-shot CLIP')!.seconds).toBeUndefined();
    expect(protocolMarkdown(t, 'x')).toContain('Training time per run (mean over datasets and seeds, this machine): CLAP 2.00 s; CoOp 150 s.');
  });

  it('xd: the average is over the targets only', () => {
    const t = buildProtocolTable('xd', [{ dataset: 'imagenet', records: [{ shots: 16, seed: 1, method: 'CoOp', accuracy: { test: 0.7, dtd: 0.4, eurosat: 0.5 } }] }], ['dtd', 'eurosat']);
    expect(t.columns).toEqual(['imagenet', 'dtd', 'eurosat', 'average']);
    expect(t.blocks[0].rows[0].cells.average!.mean).toBeCloseTo(45, 9);
    expect(t.blocks[0].rows.map((r) => r.method)).toContain('CoCoOp (published, CoCoOp Table 2)');
  });

  it('the published base-to-new, cross-dataset numbers are self-consistent', () => {
    for (const [m, row] of Object.entries(published.base2new.rows)) {
      const r = row as Record<string, number[]>;
      for (const [d, [b, n, h]] of Object.entries(r)) expect(Math.abs((2 * b * n) / (b + n) - h), `${m} ${d}`).toBeLessThan(0.011);
      const ds = Object.keys(r).filter((k) => k !== 'average');
      expect(ds).toHaveLength(11);
      for (const i of [0, 1]) expect(Math.abs(ds.reduce((s, d) => s + r[d][i], 0) / 11 - r.average[i]), `${m} average`).toBeLessThan(0.006);
    }
    for (const [m, row] of Object.entries(published.xd.rows)) {
      const r = row as Record<string, number>;
      const ts = Object.keys(r).filter((k) => k !== 'average' && k !== 'imagenet');
      expect(Math.abs(ts.reduce((s, d) => s + r[d], 0) / ts.length - r.average), m).toBeLessThan(0.006);
    }
  });
});
