/**
 * One source's table from its stored runs: the few-shot table (one block per shot count) or CoCoOp's base-to-new
 * blocks. `coop train` writes it after every run and `coop merge` rebuilds it from shards' folders with this same
 * function, so a merged sweep gives the very table an unsharded one gives.
 */
import { baseToNewMarkdown, buildBaseToNew, buildTable, tableMarkdown, type RunRecord } from '../coop/results-table';

export interface TableLayout {
  /** What the title calls the data. */
  dataLabel: string;
  splits: string[];
  methodOrder: string[];
  baseToNew: { base: string[]; new: string[] } | null;
}

export function seedsOf(records: readonly RunRecord[]): number[] {
  return [...new Set(records.map((r) => r.seed).filter((s) => s > 0))].sort((a, b) => a - b);
}

export function renderTable(layout: TableLayout, records: readonly RunRecord[]): { md: string; json: Record<string, unknown> } {
  const seeds = seedsOf(records).join(', ');
  if (!layout.baseToNew) {
    const table = buildTable(records, layout.splits, layout.methodOrder);
    return { md: tableMarkdown(table, `Accuracy (%) on ${layout.dataLabel}, mean ± std over seeds ${seeds}`), json: { table } };
  }
  const b = layout.baseToNew;
  const shots = [...new Set(records.map((r) => r.shots))].sort((x, y) => x - y);
  const blocks = shots.map((s) => ({ shots: s, rows: buildBaseToNew(records.filter((r) => r.shots === s), layout.splits, layout.methodOrder) }));
  const md = blocks
    .map((bl) => baseToNewMarkdown(bl.rows, layout.splits, `Base-to-new, ${bl.shots} shots: base ${b.base.join(', ')}; new ${b.new.join(', ')} (accuracy %, mean ± std over seeds ${seeds}; H of the means)`))
    .join('\n');
  return { md, json: { base_to_new: { base: b.base, new: b.new, blocks } } };
}
