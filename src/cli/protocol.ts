/**
 * `coop train --protocol fewshot|base2new|xd|dg --data $DATA [--datasets a,b]`: the papers' four protocols over
 * datasets in CoOp's layout, one `coop train` per dataset (into <out>/<dataset>/, each resumable and shardable on
 * its own) and one table across them (<out>/results.md, results.json; protocol-table.ts), rewritten after every
 * dataset.
 *
 * - fewshot: every dataset, all classes, shots 1/2/4/8/16 x seeds 1-3 (CoOp §4.1);
 * - base2new: every dataset, 16 shots, train on the base half, test base and new (CoCoOp Table 1);
 * - xd: train on ImageNet (16 shots), test on the other ten (CoCoOp Table 2);
 * - dg: train on ImageNet (16 shots), test on ImageNet-V2, -Sketch, -A, -R (CoCoOp Table 3).
 * base2new, xd and dg train CoOp as CoCoOp's scripts do: context initialised from "a photo of a" (vit_b16_ctxv1).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ArgError, oneOf, str, type Parsed } from './args';
import { DATASETS, DATASET_NAMES, datasetInfo } from './datasets/catalog';
import { datasetRoot } from './datasets/coop-layout';
import { buildProtocolTable, protocolMarkdown, type Protocol, type ProtocolJob } from './datasets/protocol-table';
import { CTXV1_INIT } from './datasets/recipes';
import { readManifest, readRuns } from './sweep-store';
import { IMPLIED_OPTIONS, runTrain } from './train';

export const PROTOCOLS: readonly Protocol[] = ['fewshot', 'base2new', 'xd', 'dg'];
const TRAINABLE = DATASETS.filter((d) => !d.testOnly).map((d) => d.name);
const VARIANTS = DATASETS.filter((d) => d.testOnly).map((d) => d.name);

export interface ProtocolPlan {
  protocol: Protocol;
  /** One `coop train` per entry: the training dataset and the datasets it is evaluated on besides its own test. */
  jobs: Array<{ dataset: string; targets: string[] }>;
}

export function protocolPlan(protocol: Protocol, datasets?: string[]): ProtocolPlan {
  for (const d of datasets ?? []) if (!DATASET_NAMES.includes(d)) throw new ArgError(`--datasets: unknown dataset '${d}': use some of ${DATASET_NAMES.join(', ')}`);
  if (protocol === 'fewshot' || protocol === 'base2new') {
    const ds = datasets ?? TRAINABLE;
    const bad = ds.filter((d) => datasetInfo(d).testOnly);
    if (bad.length) throw new ArgError(`--datasets: ${bad.join(', ')} are evaluation only (ImageNet's variants): use them with --protocol dg`);
    return { protocol, jobs: ds.map((d) => ({ dataset: d, targets: [] })) };
  }
  const pool = protocol === 'xd' ? TRAINABLE.filter((d) => d !== 'imagenet') : VARIANTS;
  const targets = datasets ?? pool;
  const bad = targets.filter((d) => !pool.includes(d));
  if (bad.length) throw new ArgError(`--datasets for --protocol ${protocol} are its targets (${pool.join(', ')}); not ${bad.join(', ')}`);
  return { protocol, jobs: [{ dataset: 'imagenet', targets }] };
}

/** The protocol's table from a sweep folder's datasets (used after every dataset, and by `coop merge`). */
export function protocolTableFrom(protocol: Protocol, dirs: Array<{ dataset: string; dirs: string[]; targets: string[] }>) {
  const jobs: ProtocolJob[] = dirs.map((j) => {
    const seen = new Map<string, ReturnType<typeof readRuns>[number]>();
    for (const d of j.dirs) for (const r of readRuns(d)) if (!seen.has(r.key)) seen.set(r.key, r);
    return { dataset: j.dataset, records: [...seen.values()], methodOrder: j.dirs.map(readManifest).find(Boolean)?.methodOrder };
  });
  return buildProtocolTable(protocol, jobs, dirs[0]?.targets ?? []);
}

/** The table's Markdown; written with results.json and protocol.json into `out` unless it is null. */
export function writeProtocolTable(out: string | null, protocol: Protocol, jobs: Array<{ dataset: string; dirs: string[]; targets: string[] }>): string {
  const t = protocolTableFrom(protocol, jobs);
  const md = protocolMarkdown(t, `Protocol ${protocol}: ${protocol === 'fewshot' || protocol === 'base2new' ? jobs.map((j) => j.dataset).join(', ') : `imagenet → ${jobs[0]?.targets.join(', ')}`}`);
  if (out === null) return md;
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'results.md'), md);
  writeFileSync(path.join(out, 'results.json'), JSON.stringify({ protocol, datasets: jobs.map((j) => j.dataset), targets: jobs[0]?.targets ?? [], table: t }, null, 1) + '\n');
  writeFileSync(path.join(out, 'protocol.json'), JSON.stringify({ protocol, jobs: jobs.map((j) => ({ dataset: j.dataset, targets: j.targets })) }, null, 1) + '\n');
  return md;
}

export async function runProtocol(p: Parsed): Promise<void> {
  const protocol = oneOf<Protocol>(p, 'protocol', PROTOCOLS, 'fewshot');
  for (const o of ['dataset', 'targets', 'base-to-new', 'base', 'splits']) if (p.opts.has(o)) throw new ArgError(`--${o} is set by --protocol ${protocol}; choose the datasets with --datasets`);
  const data = str(p, 'data');
  if (!data) throw new ArgError("--data DIR is required ($DATA, the folder holding the datasets in the layout of CoOp's DATASETS.md)");
  const plan = protocolPlan(protocol, str(p, 'datasets')?.split(',').filter(Boolean));
  // Every dataset's folder is checked before hours of training start, so a missing one is named at once.
  for (const j of plan.jobs) for (const d of [j.dataset, ...j.targets]) datasetRoot(data, datasetInfo(d));
  const out = str(p, 'out') ?? path.join('coop-out', `${protocol}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  const done: Array<{ dataset: string; dirs: string[]; targets: string[] }> = [];
  for (const j of plan.jobs) {
    const opts = new Map(p.opts);
    opts.delete('protocol');
    opts.delete('datasets');
    opts.set('dataset', j.dataset);
    opts.set('out', path.join(out, j.dataset));
    if (j.targets.length) opts.set('targets', j.targets.join(','));
    if (protocol === 'base2new') opts.set('base-to-new', true);
    if (protocol !== 'fewshot') {
      if (!opts.has('shots')) opts.set('shots', '16');
      // CoOp's init under CoCoOp's scripts; a successor keeps its own recipe's (train.ts IMPLIED_OPTIONS).
      if (!opts.has('init')) {
        opts.set('init', CTXV1_INIT);
        opts.set(IMPLIED_OPTIONS, 'init');
      }
    }
    process.stderr.write(`\n=== ${protocol}: ${j.dataset}${j.targets.length ? ` → ${j.targets.join(', ')}` : ''} (${done.length + 1}/${plan.jobs.length}) → ${path.join(out, j.dataset)}\n`);
    await runTrain({ opts, positional: [] });
    done.push({ dataset: j.dataset, dirs: [path.join(out, j.dataset)], targets: j.targets });
    writeProtocolTable(out, protocol, done);
  }
  const md = writeProtocolTable(out, protocol, done);
  process.stdout.write(`\n${md}`);
  process.stderr.write(`wrote ${path.join(out, 'results.md')} and results.json (protocol ${protocol}, ${done.length} dataset(s))\n`);
}

/** The datasets of a protocol sweep folder, as its protocol.json lists them (for `coop merge`). */
export function readProtocolDir(dir: string): { protocol: Protocol; jobs: Array<{ dataset: string; targets: string[] }> } | null {
  const f = path.join(dir, 'protocol.json');
  return existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) : null;
}
