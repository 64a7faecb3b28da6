/**
 * `coop merge DIR… [--out DIR]`: joins the folders of a sharded sweep (or of several runs of one) into one table.
 * Single-dataset sweeps (`coop train`) are rebuilt with the very function `train` writes its table with
 * (sweep-table.ts); protocol sweeps (`--protocol`) per dataset, then across datasets (protocol-table.ts). Folders made
 * with different models, data or settings are refused, as a rerun into one folder would be.
 */
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ArgError, str, type Parsed } from './args';
import { readProtocolDir, writeProtocolTable } from './protocol';
import { identityDiff, readManifest, readRuns, type StoredRun, type SweepManifest } from './sweep-store';
import { renderTable, type TableLayout } from './sweep-table';

export const MERGE_OPTIONS = { out: 'value' } as const;

function checkSame(dirs: string[]): SweepManifest {
  let first: SweepManifest | null = null;
  for (const d of dirs) {
    const m = readManifest(d);
    if (!m) throw new ArgError(`${d} has no sweep.json: it is not the --out folder of a coop train sweep`);
    if (!first) first = m;
    else {
      const diff = identityDiff(first.identity, m.identity);
      if (diff) throw new Error(`${dirs[0]} and ${d} are sweeps with other settings (${diff}): only shards of one sweep merge into one table`);
    }
  }
  return first!;
}

/** Runs of several folders, each key once; two different results for one key are named. */
function unionRuns(dirs: string[], warn: (s: string) => void): StoredRun[] {
  const seen = new Map<string, StoredRun>();
  for (const d of dirs) {
    for (const r of readRuns(d)) {
      const had = seen.get(r.key);
      if (!had) seen.set(r.key, r);
      else if (JSON.stringify(had.accuracy) !== JSON.stringify(r.accuracy)) warn(`warning: run ${r.key} differs between folders (${JSON.stringify(had.accuracy)} vs ${JSON.stringify(r.accuracy)}); the first is kept`);
    }
  }
  return [...seen.values()];
}

export function runMerge(p: Parsed, out: (s: string) => void = (s) => process.stdout.write(s), log: (s: string) => void = (s) => process.stderr.write(s + '\n')): void {
  const dirs = p.positional;
  if (!dirs.length) throw new ArgError('merge needs the sweep folders to join: npm run coop -- merge DIR… [--out DIR]');
  for (const d of dirs) if (!existsSync(d)) throw new ArgError(`${d} does not exist`);
  const target = str(p, 'out');
  const protocols = dirs.map(readProtocolDir);
  if (protocols.some(Boolean)) {
    if (protocols.some((x) => !x)) throw new ArgError('some folders are protocol sweeps (--protocol) and some are not: merge one kind at a time');
    const kinds = new Set(protocols.map((x) => x!.protocol));
    if (kinds.size > 1) throw new Error(`the folders hold different protocols (${[...kinds].join(', ')})`);
    const datasets = [...new Map(protocols.flatMap((x) => x!.jobs).map((j) => [j.dataset, j])).values()];
    const jobs = datasets.map((j) => {
      const ds = dirs.map((d) => path.join(d, j.dataset)).filter((d) => existsSync(path.join(d, 'sweep.json')));
      checkSame(ds);
      if (target) copyRuns(ds, path.join(target, j.dataset), log);
      return { dataset: j.dataset, dirs: ds, targets: j.targets };
    });
    const md = writeProtocolTable(target ?? null, protocols[0]!.protocol, jobs);
    out(md);
    log(`merged ${dirs.length} folder(s): protocol ${protocols[0]!.protocol}, ${jobs.length} dataset(s)${target ? `; wrote ${path.join(target, 'results.md')}` : ''}`);
    return;
  }
  const manifest = checkSame(dirs);
  const runs = unionRuns(dirs, log);
  const layout = (manifest.info?.layout ?? { dataLabel: dirs[0], splits: manifest.splits, methodOrder: manifest.methodOrder, baseToNew: null }) as TableLayout;
  const { md, json } = renderTable(layout, runs);
  out(md);
  if (target) {
    copyRuns(dirs, target, log);
    writeFileSync(path.join(target, 'results.md'), md);
    writeFileSync(path.join(target, 'results.json'), JSON.stringify({ merged_from: dirs, runs: runs.length, records: runs.map(({ shots, method, seed, accuracy }) => ({ shots, method, seed, accuracy })), ...json }, null, 1) + '\n');
  }
  log(`merged ${dirs.length} folder(s): ${runs.length} run record(s)${target ? `; wrote ${path.join(target, 'results.md')}, results.json and runs/ (a folder a rerun can continue)` : ''}`);
}

/** The merged folder holds every run and the sweep's manifest, so `coop train --out` there continues the sweep. */
function copyRuns(dirs: string[], target: string, log: (s: string) => void): void {
  const runs = unionRuns(dirs, log);
  mkdirSync(target, { recursive: true });
  copyFileSync(path.join(dirs[0], 'sweep.json'), path.join(target, 'sweep.json'));
  for (const r of runs) {
    const f = path.join(target, 'runs', `${r.key}.json`);
    mkdirSync(path.dirname(f), { recursive: true });
    writeFileSync(f, JSON.stringify(r) + '\n');
  }
}
