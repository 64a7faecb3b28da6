/**
 * The four protocols' tables across datasets, from the runs of every dataset of a sweep: columns are datasets (or,
 * for xd and dg, ImageNet then the target datasets) and an average column, cells the mean ± std over seeds, with
 * the published CoOp / CoCoOp numbers (published/cocoop-2022.json) beside ours where the papers give them.
 *
 * - fewshot: each dataset's test accuracy; average = mean over datasets of the per-dataset means.
 * - base2new: per dataset base, new and H (of the mean base and mean new, as CoCoOp reports); the average column's
 *   H is the harmonic mean of the averaged base and new, not the average of the H values.
 * - xd / dg: ImageNet's test accuracy, then each target's; average over the targets only, as CoCoOp's Tables 2, 3.
 */
import { baseKey, newKey } from '../../coop/base-to-new';
import { harmonicMean, meanStd, type RunRecord } from '../../coop/results-table';
import published from './published/cocoop-2022.json';

export type Protocol = 'fewshot' | 'base2new' | 'xd' | 'dg';

export interface ProtocolJob {
  dataset: string;
  records: RunRecord[];
  /** The sweep's row order (its manifest's methodOrder). */
  methodOrder?: string[];
}

export interface PCell {
  mean: number;
  std: number;
  runs: number[];
  seeds: number[];
}

export interface ProtocolTable {
  protocol: Protocol;
  columns: string[];
  /** seconds: the mean training time of the row's runs (datasets and seeds together), where the runs recorded it. */
  blocks: Array<{ shots: number; rows: Array<{ method: string; cells: Record<string, PCell | null>; published?: boolean; seconds?: number }> }>;
  source: string;
}

/** One row name across datasets: the hand-written rows carry their dataset's template in the label. */
export function rowName(method: string): string {
  if (method.startsWith('zero-shot CLIP')) return 'zero-shot CLIP';
  if (method.startsWith('prompt ensembling')) return 'prompt ensembling';
  return method;
}

function cell(records: RunRecord[], key: string): PCell | null {
  const have = records.filter((r) => Number.isFinite(r.accuracy[key])).sort((a, b) => a.seed - b.seed);
  if (!have.length) return null;
  const runs = have.map((r) => 100 * r.accuracy[key]);
  return { ...meanStd(runs), runs, seeds: have.map((r) => r.seed) };
}

const meanOf = (cells: (PCell | null)[]): PCell | null => {
  if (!cells.length || cells.some((c) => !c)) return null;
  const xs = cells.map((c) => c!.mean);
  return { mean: xs.reduce((a, b) => a + b, 0) / xs.length, std: NaN, runs: xs, seeds: [] };
};

export function buildProtocolTable(protocol: Protocol, jobs: readonly ProtocolJob[], targets: readonly string[] = []): ProtocolTable {
  const all = jobs.flatMap((j) => j.records.map((r) => ({ ...r, dataset: j.dataset, row: rowName(r.method) })));
  const shots = [...new Set(all.map((r) => r.shots))].sort((a, b) => a - b);
  const seen = new Set(all.map((r) => r.row));
  const rowsOrder = [...new Set([...jobs.flatMap((j) => (j.methodOrder ?? []).map(rowName)).filter((m) => seen.has(m)), ...seen])];
  let columns: string[];
  if (protocol === 'fewshot') columns = [...jobs.map((j) => j.dataset), 'average'];
  else if (protocol === 'base2new') columns = [...jobs.map((j) => j.dataset), 'average'].flatMap((d) => [`${d} base`, `${d} new`, `${d} H`]);
  else columns = [jobs[0]?.dataset ?? 'imagenet', ...targets, 'average'];
  const blocks = shots.map((s) => ({
    shots: s,
    rows: rowsOrder.map((row) => {
      const mine = all.filter((r) => r.shots === s && r.row === row);
      const cells: Record<string, PCell | null> = {};
      if (protocol === 'fewshot') {
        for (const j of jobs) cells[j.dataset] = cell(mine.filter((r) => r.dataset === j.dataset), 'test');
        cells.average = meanOf(jobs.map((j) => cells[j.dataset]));
      } else if (protocol === 'base2new') {
        for (const j of jobs) {
          const rs = mine.filter((r) => r.dataset === j.dataset);
          cells[`${j.dataset} base`] = cell(rs, baseKey('test'));
          cells[`${j.dataset} new`] = cell(rs, newKey('test'));
        }
        cells['average base'] = meanOf(jobs.map((j) => cells[`${j.dataset} base`]));
        cells['average new'] = meanOf(jobs.map((j) => cells[`${j.dataset} new`]));
        for (const d of [...jobs.map((j) => j.dataset), 'average']) {
          const b = cells[`${d} base`];
          const n = cells[`${d} new`];
          cells[`${d} H`] = b && n ? { mean: harmonicMean(b.mean, n.mean), std: NaN, runs: [], seeds: [] } : null;
        }
      } else {
        const src = columns[0];
        cells[src] = cell(mine, 'test');
        for (const t of targets) cells[t] = cell(mine, t);
        cells.average = meanOf(targets.map((t) => cells[t]));
      }
      const secs = mine.map((r) => (r as { train_seconds?: number }).train_seconds).filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
      return { method: row, cells, ...(secs.length ? { seconds: secs.reduce((a, b) => a + b, 0) / secs.length } : {}) };
    }),
  }));
  // Published numbers: CoCoOp's tables are 16-shot; they sit in the 16-shot block (or the only block).
  const pub = publishedRows(protocol, columns);
  if (pub.length) {
    const block = blocks.find((b) => b.shots === 16) ?? blocks[blocks.length - 1];
    block?.rows.push(...pub);
  }
  return { protocol, columns, blocks, source: published.source };
}

function publishedRows(protocol: Protocol, columns: string[]) {
  const fixed = (mean: number): PCell => ({ mean, std: NaN, runs: [], seeds: [] });
  if (protocol === 'base2new') {
    return Object.entries(published.base2new.rows).map(([m, row]) => {
      const r = row as Record<string, number[]>;
      const cells: Record<string, PCell | null> = {};
      for (const c of columns) {
        const [d, part] = [c.slice(0, c.lastIndexOf(' ')), c.slice(c.lastIndexOf(' ') + 1)];
        const v = r[d]?.[['base', 'new', 'H'].indexOf(part)];
        cells[c] = v === undefined ? null : fixed(v);
      }
      return { method: `${m} (published, CoCoOp Table 1)`, cells, published: true };
    });
  }
  if (protocol === 'xd' || protocol === 'dg') {
    const table = protocol === 'xd' ? published.xd.rows : published.dg.rows;
    return Object.entries(table).map(([m, row]) => {
      const r = row as Record<string, number>;
      const cells: Record<string, PCell | null> = {};
      for (const c of columns) cells[c] = r[c] === undefined ? null : fixed(r[c]);
      if (protocol === 'dg' && cells.average === null) {
        const t = columns.slice(1, -1).map((c) => cells[c]);
        cells.average = meanOf(t);
      }
      return { method: `${m} (published, CoCoOp Table ${protocol === 'xd' ? 2 : 3})`, cells, published: true };
    });
  }
  return [];
}

export function formatPCell(c: PCell | null): string {
  if (!c) return '—';
  return c.runs.length > 1 && Number.isFinite(c.std) && c.seeds.length > 1 ? `${c.mean.toFixed(1)} ± ${c.std.toFixed(1)}` : c.mean.toFixed(c.seeds.length || !Number.isFinite(c.std) ? 1 : 2);
}

function formatSeconds(s: number): string {
  return s < 10 ? `${s.toFixed(2)} s` : s < 600 ? `${s.toFixed(0)} s` : `${(s / 60).toFixed(1)} min`;
}

export function protocolMarkdown(t: ProtocolTable, title: string): string {
  const lines = [`## ${title}`, ''];
  for (const b of t.blocks) {
    lines.push(`### ${b.shots} shot${b.shots === 1 ? '' : 's'}`, '');
    lines.push(`| method | ${t.columns.join(' | ')} |`, `| --- |${t.columns.map(() => ' --- |').join('')}`);
    for (const r of b.rows) lines.push(`| ${r.method} | ${t.columns.map((c) => formatPCell(r.cells[c] ?? null)).join(' | ')} |`);
    lines.push('');
    const timed = b.rows.filter((r) => r.seconds !== undefined);
    if (timed.length) lines.push(`Training time per run (mean over datasets and seeds, this machine): ${timed.map((r) => `${r.method} ${formatSeconds(r.seconds!)}`).join('; ')}.`, '');
  }
  if (t.blocks.some((b) => b.rows.some((r) => r.published))) lines.push(`Published rows: ${t.source}`, '');
  lines.push('Cells: accuracy %, mean ± std over seeds (population std); average: the mean of the per-dataset means' + (t.protocol === 'base2new' ? "; H: harmonic mean of the mean base and mean new accuracies (the average's H of the averaged base and new)" : t.protocol === 'fewshot' ? '' : ' over the target datasets') + '.', '');
  return lines.join('\n');
}
