/**
 * Sweeps over datasets in CoOp's layout (a tiny $DATA built from the bundled demo's images): every finished run is
 * on disk, a rerun after losing runs redoes only those, two shards merge into the unsharded table, and the
 * protocols' tables span datasets with the average column and the published rows.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main';

const MODEL = 'public/models/toy-clip';
const DEMO = 'public/samples';
const tmp = mkdtempSync(path.join(os.tmpdir(), 'coop-sweep-'));
const DATA = path.join(tmp, 'data');
const cache = path.join(tmp, 'cache');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
process.env.COOP_NO_REEXEC = '1';

async function coopIn(args: string[]) {
  let stdout = '';
  let stderr = '';
  const w = process.stdout.write.bind(process.stdout);
  const e = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => ((stdout += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((stderr += s), true)) as typeof process.stderr.write;
  try {
    return { code: await main(args), stdout, stderr };
  } finally {
    process.stdout.write = w;
    process.stderr.write = e;
  }
}

const put = (from: string, to: string) => {
  mkdirSync(path.dirname(to), { recursive: true });
  copyFileSync(from, to);
};

/** split_zhou layout: train 3, val 1, test 2 images per class, classes interleaved in the file. */
function splitDataset(folder: string, images: string, file: string, classes: string[]) {
  const root = path.join(DATA, folder);
  const split: Record<string, [string, number, string][]> = { train: [], val: [], test: [] };
  for (let i = 0; i < 6; i++) {
    classes.forEach((c, y) => {
      const s = i < 3 ? 'train' : i < 4 ? 'val' : 'test';
      const rel = `${c}/${c}_${i}.jpg`;
      put(path.join(DEMO, i < 4 ? 'train' : 'test', c, `00${i}.jpg`), path.join(root, images, rel));
      split[s].push([rel, y, c]);
    });
  }
  writeFileSync(path.join(root, file), JSON.stringify(split));
}

beforeAll(() => {
  splitDataset('dtd', 'images', 'split_zhou_DescribableTextures.json', ['disc', 'box', 'kite']);
  splitDataset('eurosat', '2750', 'split_zhou_EuroSAT.json', ['donut', 'plus', 'wedge', 'sparkle']);
  const wn = { n01: 'disc', n02: 'box', n03: 'kite', n04: 'plus' } as Record<string, string>;
  const names = Object.entries(wn).map(([w, c]) => `${w} ${c}`).join('\n') + '\n';
  for (const [w, c] of Object.entries(wn)) {
    for (let i = 0; i < 3; i++) put(path.join(DEMO, 'train', c, `00${i}.jpg`), path.join(DATA, 'imagenet', 'images', 'train', w, `${w}_${i}.JPEG`));
    for (let i = 0; i < 2; i++) put(path.join(DEMO, 'test', c, `00${i}.jpg`), path.join(DATA, 'imagenet', 'images', 'val', w, `v_${i}.JPEG`));
    // ImageNet-A holds a subset of the classes: two of the four here.
    if (w === 'n02' || w === 'n04') for (let i = 0; i < 2; i++) put(path.join(DEMO, 'shifted', c, `00${i}.jpg`), path.join(DATA, 'imagenet-adversarial', 'imagenet-a', w, `a_${i}.jpg`));
  }
  writeFileSync(path.join(DATA, 'imagenet', 'classnames.txt'), names);
  writeFileSync(path.join(DATA, 'imagenet-adversarial', 'classnames.txt'), names);
});

const train = (out: string, extra: string[] = []) =>
  coopIn(['train', '--model', MODEL, '--data', DATA, '--shots', '1,2', '--seeds', '1,2', '--epochs', '1', '--engine', 'cpu', '--cache', cache, '--out', out, ...extra]);

describe('a sweep on a CoOp dataset survives a kill and spreads over shards', () => {
  const A = path.join(tmp, 'full');
  let first: Awaited<ReturnType<typeof coopIn>>;
  beforeAll(async () => {
    first = await train(A, ['--dataset', 'dtd']);
  }, 120_000);

  it("writes every run as it ends, with dtd's template and CoOp's ensemble", () => {
    expect(first.code, first.stderr).toBe(0);
    const runs = readdirSync(path.join(A, 'runs', 'dtd')).sort();
    // 2 shots x 2 seeds x (probe + CoOp) + 2 shots x 2 hand-written rows.
    expect(runs).toHaveLength(12);
    const md = readFileSync(path.join(A, 'results.md'), 'utf8');
    expect(md).toContain('| zero-shot CLIP ("{} texture.") |');
    expect(md).toContain("| prompt ensembling (CoOp's 8 templates) |");
  });

  it('a rerun after losing runs redoes exactly those and gives the same table', async () => {
    const table = first.stdout.slice(0, first.stdout.indexOf('\nTraining time'));
    for (const f of ['2shot-seed2-coop-unified-end-m16.json', '2shot-seed2-linear-probe.json']) rmSync(path.join(A, 'runs', 'dtd', f));
    const again = await train(A, ['--dataset', 'dtd']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/resuming .*: 10 run\(s\) already done are loaded, not redone; 2 to run/);
    expect(again.stderr).not.toMatch(/seed 1 views|1-shot seed/);
    expect(again.stdout.slice(0, again.stdout.indexOf('\nTraining time'))).toBe(table);
    // Nothing left: a third command runs nothing.
    const third = await train(A, ['--dataset', 'dtd']);
    expect(third.stderr).toMatch(/12 run\(s\) already done are loaded, not redone; 0 to run/);
  }, 120_000);

  it('two shards merged give the unsharded table; other settings are refused', async () => {
    const s0 = await train(path.join(tmp, 's0'), ['--dataset', 'dtd', '--shard', '0/2']);
    const s1 = await train(path.join(tmp, 's1'), ['--dataset', 'dtd', '--shard', '1/2']);
    expect(s0.code, s0.stderr).toBe(0);
    expect(s1.code, s1.stderr).toBe(0);
    expect(s0.stderr).toMatch(/shard 0\/2: 4 of the sweep's 8 runs/);
    const m = await coopIn(['merge', path.join(tmp, 's0'), path.join(tmp, 's1'), '--out', path.join(tmp, 'merged')]);
    expect(m.code, m.stderr).toBe(0);
    expect(readFileSync(path.join(A, 'results.md'), 'utf8').startsWith(m.stdout)).toBe(true);
    expect(m.stdout).toContain('### 2 shots');
    const other = await train(path.join(tmp, 's1'), ['--dataset', 'dtd', '--shard', '1/2', '--lr', '0.01']);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/holds a sweep made with other settings \(settings: /);
    expect((await coopIn(['train', '--model', MODEL, '--data', DATA, '--dataset', 'dtd', '--shard', '2/2'])).stderr).toMatch(/--shard takes i\/n with 0 ≤ i < n/);
  }, 180_000);
});

describe('the protocols, one table across datasets', () => {
  it('base2new over two datasets: base, new, H per dataset and the average H of the averaged base and new', async () => {
    const out = path.join(tmp, 'b2n');
    const r = await coopIn(['train', '--protocol', 'base2new', '--datasets', 'dtd,eurosat', '--model', MODEL, '--data', DATA, '--shots', '2', '--seeds', '1,2', '--epochs', '1', '--method', 'coop,deep,tcp', '--engine', 'cpu', '--cache', cache, '--out', out, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8'));
    expect(json.table.columns).toEqual(['dtd base', 'dtd new', 'dtd H', 'eurosat base', 'eurosat new', 'eurosat H', 'average base', 'average new', 'average H']);
    const coop = json.table.blocks[0].rows.find((x: { method: string }) => x.method.startsWith('CoOp unified end "a photo of a"'));
    const c = coop.cells;
    expect(c['dtd base'].runs).toHaveLength(2);
    expect(c['average base'].mean).toBeCloseTo((c['dtd base'].mean + c['eurosat base'].mean) / 2, 9);
    const b = c['average base'].mean;
    const n = c['average new'].mean;
    expect(c['average H'].mean).toBeCloseTo((2 * b * n) / (b + n), 9);
    const md = readFileSync(path.join(out, 'results.md'), 'utf8');
    expect(md).toContain('| CoOp (published, CoCoOp Table 1) | 79.4 | 41.2 | 54.2 | 92.2 | 54.7 | 68.7 | 82.7 | 63.2 | 71.7 |');
    // The successors' rows beside CoOp's, each with its own recipe: TCP's random init, not base2new's CoOp init.
    const methods = json.table.blocks[0].rows.map((x: { method: string }) => x.method);
    expect(methods).toContain('Deep prompts unified end "a photo of a"');
    expect(methods).toContain('TCP unified end M4 Adam');
    const tcp = json.table.blocks[0].rows.find((x: { method: string }) => x.method === 'TCP unified end M4 Adam').cells;
    expect(tcp['dtd new'].runs).toHaveLength(2);
    expect(Number.isFinite(tcp['average H'].mean)).toBe(true);
    // dtd has 3 classes: Dassl's ceil(3 / 2) = 2 are base.
    expect(r.stderr).toMatch(/base classes disc, box; new classes kite/);
  }, 180_000);

  it('base2new in two shards merges into the unsharded protocol table', async () => {
    const args = (out: string, shard: string) => ['train', '--protocol', 'base2new', '--datasets', 'dtd,eurosat', '--model', MODEL, '--data', DATA, '--shots', '2', '--seeds', '1,2', '--epochs', '1', '--method', 'coop,deep,tcp', '--engine', 'cpu', '--cache', cache, '--out', out, '--quiet', '--shard', shard];
    for (const i of [0, 1]) expect((await coopIn(args(path.join(tmp, `b2n-${i}`), `${i}/2`))).code).toBe(0);
    const m = await coopIn(['merge', path.join(tmp, 'b2n-0'), path.join(tmp, 'b2n-1'), '--out', path.join(tmp, 'b2n-merged')]);
    expect(m.code, m.stderr).toBe(0);
    // The same table, accuracy for accuracy; the time-per-run lines are measurements of different runs.
    const untimed = (f: string) => readFileSync(f, 'utf8').replace(/^Training time per run .*$/gm, '');
    expect(untimed(path.join(tmp, 'b2n-merged', 'results.md'))).toBe(untimed(path.join(tmp, 'b2n', 'results.md')));
    expect(readFileSync(path.join(tmp, 'b2n-merged', 'results.md'), 'utf8')).toMatch(/^Training time per run \(mean over datasets and seeds, this machine\): .*CoOp unified end/m);
    expect(m.stderr).toMatch(/protocol base2new, 2 dataset\(s\)/);
  }, 180_000);

  it('dg: ImageNet to ImageNet-A (a subset of the classes), scored among its own classes', async () => {
    const out = path.join(tmp, 'dg');
    const r = await coopIn(['train', '--protocol', 'dg', '--datasets', 'imagenet_a', '--model', MODEL, '--data', DATA, '--shots', '1', '--seeds', '1', '--epochs', '1', '--engine', 'cpu', '--cache', cache, '--out', out, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8'));
    expect(json.table.columns).toEqual(['imagenet', 'imagenet_a', 'average']);
    const rows = json.table.blocks[0].rows.map((x: { method: string }) => x.method);
    expect(rows).toEqual(['zero-shot CLIP', 'prompt ensembling', 'linear probe', 'CoOp unified end "a photo of a"', 'CLIP (published, CoCoOp Table 3)', 'CoOp (published, CoCoOp Table 3)', 'CoCoOp (published, CoCoOp Table 3)']);
    expect(json.table.blocks[0].rows[3].cells.imagenet_a.mean).toBeGreaterThanOrEqual(0);
    expect(json.table.blocks[0].rows[2].cells.imagenet_a).toBeNull(); // the probe has no weights for another label set
  }, 120_000);

  it('fewshot with the feature-only methods: their rows, and a time per run under the block', async () => {
    const out = path.join(tmp, 'fewshot-feature');
    const r = await coopIn(['train', '--protocol', 'fewshot', '--datasets', 'dtd', '--model', MODEL, '--data', DATA, '--shots', '2', '--seeds', '1', '--method', 'clap,lpp,taskres,clip-adapter', '--engine', 'cpu', '--cache', cache, '--out', out, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8'));
    expect(json.table.blocks[0].rows.map((x: { method: string }) => x.method).slice(-4)).toEqual(['CLAP', 'LP++', 'TaskRes', 'CLIP-Adapter']);
    expect(readFileSync(path.join(out, 'results.md'), 'utf8')).toMatch(/^Training time per run \(mean over datasets and seeds, this machine\): CLAP [\d.]+ s; LP\+\+ [\d.]+ s; TaskRes [\d.]+ s; CLIP-Adapter [\d.]+ s\.$/m);
  }, 180_000);

  it('--targets with the successors: each scored on the other dataset among its own classes (TCP from their template)', async () => {
    const out = path.join(tmp, 'targets-succ');
    const r = await coopIn(['train', '--dataset', 'dtd', '--targets', 'eurosat', '--model', MODEL, '--data', DATA, '--shots', '1', '--seeds', '1', '--epochs', '1', '--method', 'cocoop,tcp,dept-kgcoop', '--engine', 'cpu', '--cache', cache, '--out', out, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const records = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')).records as Array<{ method: string; accuracy: Record<string, number> }>;
    for (const m of ['CoCoOp', 'TCP', 'DePT (KgCoOp)']) {
      const rec = records.find((x) => x.method.startsWith(`${m} `));
      expect(rec, m).toBeDefined();
      expect(Object.keys(rec!.accuracy).sort(), m).toEqual(['eurosat', 'test']);
    }
  }, 120_000);

  it('a missing dataset is named before anything trains', async () => {
    const r = await coopIn(['train', '--protocol', 'xd', '--model', MODEL, '--data', DATA, '--engine', 'cpu', '--out', path.join(tmp, 'xd')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/caltech-101 is missing: caltech101 lives in \$DATA\/caltech-101\//);
  });
});
