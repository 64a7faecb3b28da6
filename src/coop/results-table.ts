/**
 * The paper's few-shot table (CoOp §4.1, Fig. 3 / Table 1 as numbers): one block per shot count, rows zero-shot
 * CLIP, prompt ensembling, the linear probe and each CoOp configuration, columns the evaluation splits, each cell
 * the mean ± std over seeds of the accuracy in %. The std is numpy's default (population, ddof = 0), as the
 * reference numbers of tools/toy-clip/demo.py are computed.
 *
 * Base-to-new (CoCoOp's protocol): per split, base accuracy, new accuracy and their harmonic mean; H is taken of
 * the mean base and mean new accuracies, as CoCoOp reports it.
 */
import { baseKey, newKey } from './base-to-new';

/** One finished run's accuracies in [0, 1] by split. */
export interface RunRecord {
  shots: number;
  /** Row label: 'zero-shot', 'ensemble', 'linear probe', 'CoOp unified end M16', … */
  method: string;
  seed: number;
  accuracy: Record<string, number>;
}

export interface Cell {
  /** Percent. */
  mean: number;
  std: number;
  /** Percent, one per seed in seed order. */
  runs: number[];
  seeds: number[];
}

export interface TableBlock {
  shots: number;
  rows: Array<{ method: string; cells: Record<string, Cell | null> }>;
}

export interface ResultsTable {
  splits: string[];
  blocks: TableBlock[];
}

export function meanStd(xs: readonly number[]): { mean: number; std: number } {
  if (xs.length === 0) return { mean: NaN, std: NaN };
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  const v = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length;
  return { mean, std: Math.sqrt(v) };
}

/** Groups records into blocks (shots ascending) and rows (in `methodOrder`, then first-seen order). */
export function buildTable(records: readonly RunRecord[], splits: readonly string[], methodOrder: readonly string[] = []): ResultsTable {
  const shots = [...new Set(records.map((r) => r.shots))].sort((a, b) => a - b);
  const blocks = shots.map((s) => {
    const mine = records.filter((r) => r.shots === s);
    const seen = [...new Set(mine.map((r) => r.method))];
    const methods = [...methodOrder.filter((m) => seen.includes(m)), ...seen.filter((m) => !methodOrder.includes(m))];
    return {
      shots: s,
      rows: methods.map((method) => {
        const runs = mine.filter((r) => r.method === method).sort((a, b) => a.seed - b.seed);
        const cells: Record<string, Cell | null> = {};
        for (const split of splits) {
          const have = runs.filter((r) => Number.isFinite(r.accuracy[split]));
          if (!have.length) {
            cells[split] = null;
            continue;
          }
          const pct = have.map((r) => 100 * r.accuracy[split]);
          cells[split] = { ...meanStd(pct), runs: pct, seeds: have.map((r) => r.seed) };
        }
        return { method, cells };
      }),
    };
  });
  return { splits: [...splits], blocks };
}

/** "39.7 ± 9.0" (n > 1), "7.5" (one run), "—" (none). */
export function formatCell(c: Cell | null): string {
  if (!c) return '—';
  return c.runs.length > 1 ? `${c.mean.toFixed(1)} ± ${c.std.toFixed(1)}` : c.mean.toFixed(1);
}

export function tableMarkdown(t: ResultsTable, title = 'Accuracy (%), mean ± std over seeds'): string {
  const lines = [`## ${title}`, ''];
  for (const b of t.blocks) {
    lines.push(`### ${b.shots} shot${b.shots === 1 ? '' : 's'}`, '');
    lines.push(`| method | ${t.splits.join(' | ')} |`, `| --- |${t.splits.map(() => ' --- |').join('')}`);
    for (const r of b.rows) lines.push(`| ${r.method} | ${t.splits.map((s) => formatCell(r.cells[s])).join(' | ')} |`);
    lines.push('');
  }
  return lines.join('\n');
}

/** Base-to-new records: accuracy keys are `${split}/base` and `${split}/new`. */
export interface BaseToNewRow {
  method: string;
  /** Per split: base, new (Cells) and H (percent, of the means). */
  splits: Record<string, { base: Cell | null; new: Cell | null; h: number }>;
}

export function harmonicMean(a: number, b: number): number {
  return a + b > 0 ? (2 * a * b) / (a + b) : 0;
}

export function buildBaseToNew(records: readonly RunRecord[], splits: readonly string[], methodOrder: readonly string[] = []): BaseToNewRow[] {
  const seen = [...new Set(records.map((r) => r.method))];
  const methods = [...methodOrder.filter((m) => seen.includes(m)), ...seen.filter((m) => !methodOrder.includes(m))];
  const table = buildTable(records.map((r) => ({ ...r, shots: 0 })), splits.flatMap((s) => [baseKey(s), newKey(s)]), methods);
  return (table.blocks[0]?.rows ?? []).map((row) => ({
    method: row.method,
    splits: Object.fromEntries(
      splits.map((s) => {
        const base = row.cells[baseKey(s)];
        const nw = row.cells[newKey(s)];
        return [s, { base, new: nw, h: base && nw ? harmonicMean(base.mean, nw.mean) : NaN }];
      }),
    ),
  }));
}

export function baseToNewMarkdown(rows: readonly BaseToNewRow[], splits: readonly string[], title: string): string {
  const lines = [`## ${title}`, ''];
  lines.push(`| method | ${splits.map((s) => `${s} base | ${s} new | ${s} H`).join(' | ')} |`);
  lines.push(`| --- |${splits.map(() => ' --- | --- | --- |').join('')}`);
  for (const r of rows) {
    const cells = splits.map((s) => {
      const c = r.splits[s];
      return `${formatCell(c.base)} | ${formatCell(c.new)} | ${Number.isFinite(c.h) ? c.h.toFixed(1) : '—'}`;
    });
    lines.push(`| ${r.method} | ${cells.join(' | ')} |`);
  }
  lines.push('');
  return lines.join('\n');
}

/**
 * The columns of one run's flat accuracies (the app's methods table): plain splits ('train', 'test', …) as they
 * come, then per base-to-new split (keys `${split}/base`, `${split}/new`) its base, new and harmonic-mean columns.
 * H is only given where both parts were scored. Values stay in the records' unit ([0, 1] in the app).
 */
export interface AccuracyColumn {
  key: string;
  label: string;
  value: (acc: Readonly<Record<string, number>>) => number | undefined;
}

export function accuracyColumns(records: ReadonlyArray<Readonly<Record<string, number>>>): AccuracyColumn[] {
  const keys = [...new Set(records.flatMap((r) => Object.keys(r)))];
  const plain = keys.filter((k) => !k.includes('/'));
  const b2n = [...new Set(keys.filter((k) => k.endsWith('/base') || k.endsWith('/new')).map((k) => k.slice(0, k.lastIndexOf('/'))))];
  const cols: AccuracyColumn[] = plain.map((k) => ({ key: k, label: k, value: (a) => a[k] }));
  for (const s of b2n) {
    cols.push({ key: baseKey(s), label: `${s} base`, value: (a) => a[baseKey(s)] });
    cols.push({ key: newKey(s), label: `${s} new`, value: (a) => a[newKey(s)] });
    cols.push({
      key: `${s}/H`,
      label: `${s} H`,
      value: (a) => (Number.isFinite(a[baseKey(s)]) && Number.isFinite(a[newKey(s)]) ? harmonicMean(a[baseKey(s)], a[newKey(s)]) : undefined),
    });
  }
  return cols;
}
