/**
 * A sweep's runs on disk, so a sweep survives a kill and spreads over machines. Each finished run is written as
 * it ends to `<out>/runs/<dataset>/<shots>shot-seed<seed>-<method>.json` (written under a temporary name and
 * renamed, so a kill never leaves half a file); the same command again loads those and runs only the rest.
 * `--shard i/n` keeps the run groups (the runs of one shots x seed draw) whose place in the sweep's fixed order is i
 * modulo n, so n machines (a SLURM job array, Kubernetes indexed Jobs) split one sweep without talking to each
 * other; `coop merge` joins their folders.
 *
 * `<out>/sweep.json` records what the runs depend on (model, data, settings, table layout); a rerun or a merge
 * with different values is refused, so runs of different sweeps never mix in one table.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RunRecord } from '../coop/results-table';
import { ArgError } from './args';

export interface StoredRun extends RunRecord {
  key: string;
  dataset: string;
  train_seconds?: number;
  detail?: Record<string, unknown>;
}

export interface SweepManifest {
  /** What must match for runs to belong to one table. */
  identity: Record<string, unknown>;
  /** Table layout: evaluation splits and row order. */
  splits: string[];
  methodOrder: string[];
  /** Everything else worth keeping (not compared). */
  info?: Record<string, unknown>;
}

export interface Shard {
  index: number;
  count: number;
}

export function parseShard(v: string | undefined): Shard {
  if (v === undefined) return { index: 0, count: 1 };
  const m = /^(\d+)\/(\d+)$/.exec(v.trim());
  if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2])) {
    throw new ArgError(`--shard takes i/n with 0 ≤ i < n (this machine's index among n, counted from 0 as $SLURM_ARRAY_TASK_ID with --array=0-(n-1) or $JOB_COMPLETION_INDEX), got '${v}'`);
  }
  return { index: Number(m[1]), count: Number(m[2]) };
}

const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'run';

export function runKey(dataset: string, shots: number, seed: number, method: string): string {
  return `${slug(dataset)}/${shots}shot-seed${seed}-${slug(method)}`;
}

function writeAtomic(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

function listJson(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) out.push(...listJson(p));
    else if (d.name.endsWith('.json')) out.push(p);
  }
  return out.sort();
}

export function readRuns(out: string): StoredRun[] {
  return listJson(path.join(out, 'runs')).map((f) => {
    try {
      return JSON.parse(readFileSync(f, 'utf8')) as StoredRun;
    } catch (e) {
      throw new Error(`${f} is not a run record (${(e as Error).message}): delete it and rerun, the run will be redone`);
    }
  });
}

export function readManifest(out: string): SweepManifest | null {
  const f = path.join(out, 'sweep.json');
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as SweepManifest) : null;
}

/** The first field where two sweeps differ, or null. */
export function identityDiff(a: Record<string, unknown>, b: Record<string, unknown>): string | null {
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) return `${k}: ${JSON.stringify(a[k])} vs ${JSON.stringify(b[k])}`;
  }
  return null;
}

export class SweepStore {
  private readonly done = new Map<string, StoredRun>();
  /** Runs loaded from an earlier, interrupted command. */
  readonly resumed: number;

  constructor(
    readonly out: string,
    manifest: SweepManifest,
    readonly shard: Shard,
  ) {
    const old = readManifest(out);
    if (old) {
      const diff = identityDiff(old.identity, manifest.identity);
      if (diff) throw new ArgError(`${out} holds a sweep made with other settings (${diff}): use another --out, or the options of that sweep to continue it`);
    }
    writeAtomic(path.join(out, 'sweep.json'), JSON.stringify(manifest, null, 1) + '\n');
    for (const r of readRuns(out)) this.done.set(r.key, r);
    this.resumed = this.done.size;
  }

  has(key: string): boolean {
    return this.done.has(key);
  }

  get(key: string): StoredRun | undefined {
    return this.done.get(key);
  }

  /** Whether the run group at `index` in the sweep's order is this shard's. */
  mine(index: number): boolean {
    return index % this.shard.count === this.shard.index;
  }

  save(run: StoredRun): void {
    this.done.set(run.key, run);
    writeAtomic(path.join(this.out, 'runs', `${run.key}.json`), JSON.stringify(run) + '\n');
  }

  get all(): StoredRun[] {
    return [...this.done.values()];
  }
}
