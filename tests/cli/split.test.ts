/**
 * `coop split` on small synthetic datasets in CoOp's layout, built here from tests/fixtures/dassl-split/splits.json
 * (empty image files: the sampler never opens them), against the rows Python's `random` and Dassl's rules give
 * (tools/dassl-split/reference.py). Then the readers' messages: missing folders and files name what is missing and
 * where DATASETS.md gets it; split files that reach outside the dataset, or name a FIFO, are refused.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main';
import { readCoopDataset } from '../../src/cli/datasets/coop-layout';

type Row = [string, number, string];
interface Draw { shots: number; seed: number; subsample: string; train: Row[]; val: Row[]; test: Row[] }
interface Ds { dataset: string; split: Record<'train' | 'val' | 'test', Row[]>; files?: Record<string, string>; classnames?: string; tree?: Record<string, Record<string, string[]>>; draws: Draw[] }
const fixture = JSON.parse(await import('node:fs').then((fs) => fs.readFileSync('tests/fixtures/dassl-split/splits.json', 'utf8'))) as { datasets: Ds[] };

const tmp = mkdtempSync(path.join(os.tmpdir(), 'coop-split-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const touch = (f: string) => {
  mkdirSync(path.dirname(f), { recursive: true });
  writeFileSync(f, '');
};

/** $DATA with the fixture's dataset laid out as CoOp's reader expects it. */
function layout(ds: Ds, data: string, edit?: (root: string) => void): string {
  if (ds.dataset === 'dtd') {
    const root = path.join(data, 'dtd');
    for (const s of ['train', 'val', 'test'] as const) for (const [p] of ds.split[s]) touch(path.join(root, 'images', p));
    writeFileSync(path.join(root, 'split_zhou_DescribableTextures.json'), JSON.stringify(ds.split));
    edit?.(root);
  } else if (ds.dataset === 'fgvc_aircraft') {
    const root = path.join(data, 'fgvc_aircraft');
    for (const s of ['train', 'val', 'test'] as const) for (const [p] of ds.split[s]) touch(path.join(root, 'images', p));
    for (const [f, text] of Object.entries(ds.files!)) writeFileSync(path.join(root, f), text);
    edit?.(root);
  } else {
    const root = path.join(data, 'imagenet');
    for (const [split, folders] of Object.entries(ds.tree!)) for (const [w, files] of Object.entries(folders)) for (const f of files) touch(path.join(root, 'images', split, w, f));
    writeFileSync(path.join(root, 'classnames.txt'), ds.classnames!);
    edit?.(root);
  }
  return data;
}

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

describe('coop split: the official few-shot subsets, item for item', () => {
  for (const ds of fixture.datasets) {
    it(`${ds.dataset}: every shots x seed x subsample as Python's random and Dassl give them (${ds.draws.length} draws)`, async () => {
      const data = layout(ds, path.join(tmp, `ok-${ds.dataset}`));
      for (const d of ds.draws) {
        const r = await coopIn(['split', '--data', data, '--dataset', ds.dataset, '--shots', String(d.shots), '--seed', String(d.seed), '--subsample', d.subsample]);
        expect(r.code, r.stderr).toBe(0);
        const got = JSON.parse(r.stdout);
        const tag = `${ds.dataset} ${d.shots} shots seed ${d.seed} ${d.subsample}`;
        expect(got.train, tag).toEqual(d.train);
        expect(got.val, tag).toEqual(d.val);
        expect(got.test, tag).toEqual(d.test);
      }
    });
  }

  it('draws repeats for a class shorter than K (random.choices, as CoOp calls Dassl with repeat=True)', () => {
    const d = fixture.datasets[0].draws.find((x) => x.shots === 16 && x.subsample === 'all')!;
    const banded = d.train.filter((r) => r[2] === 'banded');
    expect(banded).toHaveLength(16);
    expect(new Set(banded.map((r) => r[0])).size).toBe(1);
  });

  it('runs as the documented npm command', () => {
    const data = path.join(tmp, 'ok-dtd');
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/coop.ts', 'split', '--data', data, '--dataset', 'dtd', '--shots', '2', '--seed', '1'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(JSON.parse(out).train).toEqual(fixture.datasets[0].draws.find((x) => x.shots === 2 && x.seed === 1)!.train);
  }, 60_000);
});

describe('CoOp layout: clear messages and refusals', () => {
  const dtd = fixture.datasets[0];
  const split = (data: string, extra: string[] = []) => coopIn(['split', '--data', data, '--dataset', 'dtd', '--shots', '1', ...extra]);

  it('a missing dataset folder names it and where DATASETS.md gets it', async () => {
    mkdirSync(path.join(tmp, 'empty'), { recursive: true });
    const r = await split(path.join(tmp, 'empty'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/empty\/dtd is missing: dtd lives in \$DATA\/dtd\/ .*split_zhou_DescribableTextures\.json .*CoOp's DATASETS\.md, section DTD/);
  });

  it('a missing split file names the file and its source', async () => {
    const data = layout(dtd, path.join(tmp, 'nosplit'), (root) => rmSync(path.join(root, 'split_zhou_DescribableTextures.json')));
    const r = await split(data);
    expect(r.stderr).toMatch(/split_zhou_DescribableTextures\.json is missing: dtd needs split_zhou_DescribableTextures\.json \(CoOp's DATASETS\.md, section DTD/);
  });

  it('missing images are counted and named', async () => {
    const data = layout(dtd, path.join(tmp, 'noimg'), (root) => rmSync(path.join(root, 'images', 'banded'), { recursive: true }));
    const r = await split(data);
    expect(r.stderr).toMatch(/image\(s\) named by dtd's split are missing, e\.g\.\n.*"train" entry \d+: .*banded_0000\.jpg/);
  });

  it("a split path with '..' or an absolute one is refused with its entry", async () => {
    for (const [bad, why] of [['../../etc/passwd', /'\.\.' segment/], ['/etc/passwd', /absolute/]] as const) {
      const data = layout(dtd, path.join(tmp, `escape-${why.source.length}`), (root) => {
        const s = structuredClone(dtd.split);
        s.val[2][0] = bad;
        writeFileSync(path.join(root, 'split_zhou_DescribableTextures.json'), JSON.stringify(s));
      });
      const r = await split(data);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`"val" entry 2: the image path "${bad.replace(/[./]/g, '\\$&')}" is refused: .*${why.source}`));
    }
  });

  it('a FIFO or a device named by the split is refused', async () => {
    const data = layout(dtd, path.join(tmp, 'fifo'), (root) => {
      const f = path.join(root, 'images', 'banded', 'banded_0000.jpg');
      rmSync(f);
      execFileSync('mkfifo', [f]);
      const g = path.join(root, 'images', 'blotchy', 'blotchy_0000.jpg');
      rmSync(g);
      symlinkSync('/dev/zero', g);
    });
    const r = await split(data);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/"train" entry \d+ names .*banded_0000\.jpg, which is a FIFO, not an image file: refused/);
    rmSync(path.join(data, 'dtd', 'images', 'banded', 'banded_0000.jpg'));
    touch(path.join(data, 'dtd', 'images', 'banded', 'banded_0000.jpg'));
    expect((await split(data)).stderr).toMatch(/blotchy_0000\.jpg, which is a device, not an image file: refused/);
  });

  it('FGVC: an unknown variant names the line; ImageNet: a folder without a class name names it', async () => {
    const fg = fixture.datasets[1];
    const d1 = layout(fg, path.join(tmp, 'fg-bad'), (root) => writeFileSync(path.join(root, 'images_variant_val.txt'), '1000001 707-320\n1000002 Concorde\n'));
    expect((await coopIn(['split', '--data', d1, '--dataset', 'fgvc_aircraft', '--shots', '1'])).stderr).toMatch(/images_variant_val\.txt line 2: the variant "Concorde" is not in variants\.txt/);
    const im = fixture.datasets[2];
    const d2 = layout(im, path.join(tmp, 'in-bad'), (root) => touch(path.join(root, 'images', 'train', 'n09999999', 'x.JPEG')));
    expect((await coopIn(['split', '--data', d2, '--dataset', 'imagenet', '--shots', '1'])).stderr).toMatch(/classnames\.txt has no line for the class folder 'n09999999'/);
  });

  it('--data may be the dataset folder itself; unknown names and missing options are named', async () => {
    const data = path.join(tmp, 'ok-dtd');
    expect(readCoopDataset(path.join(data, 'dtd'), 'dtd').splits.train).toHaveLength(dtd.split.train.length);
    expect((await coopIn(['split', '--data', data, '--dataset', 'dtdd', '--shots', '1'])).stderr).toMatch(/unknown dataset 'dtdd': use one of imagenet, caltech101/);
    expect((await coopIn(['split', '--data', data, '--dataset', 'dtd'])).stderr).toMatch(/--shots K is required/);
  });
});

describe('CoOp layout: the variants and Stanford Cars', () => {
  it('ImageNet-A/R: 200-class style subsets label the sorted folders 0.. with their names from classnames.txt', () => {
    const data = path.join(tmp, 'variants');
    const names = ['n01 tench', 'n02 goldfish', 'n03 great white shark', 'n04 tiger shark'].join('\n') + '\n';
    for (const [folder, images] of [['imagenet-adversarial', 'imagenet-a'], ['imagenet-rendition', 'imagenet-r'], ['imagenet-sketch', 'images']]) {
      const root = path.join(data, folder);
      for (const w of ['n04', 'n02']) for (const f of ['b.jpg', 'a.jpg']) touch(path.join(root, images, w, f));
      touch(path.join(root, images, 'README.txt'));
      writeFileSync(path.join(root, 'classnames.txt'), names);
    }
    for (const name of ['imagenet_a', 'imagenet_r', 'imagenet_sketch']) {
      const ds = readCoopDataset(data, name);
      expect(ds.splits.test.map((d) => [d.impath, d.label, d.classname])).toEqual([
        ['n02/a.jpg', 0, 'goldfish'], ['n02/b.jpg', 0, 'goldfish'], ['n04/a.jpg', 1, 'tiger shark'], ['n04/b.jpg', 1, 'tiger shark'],
      ]);
      expect(ds.splits.train).toEqual([]);
    }
  });

  it("ImageNet-V2: folder i is classnames.txt's i-th class; Stanford Cars' paths are relative to its root", () => {
    const data = path.join(tmp, 'v2cars');
    const v2 = path.join(data, 'imagenetv2');
    for (const i of [0, 1]) touch(path.join(v2, 'imagenetv2-matched-frequency-format-val', String(i), 'x.jpeg'));
    writeFileSync(path.join(v2, 'classnames.txt'), 'n01 tench\nn02 goldfish\n');
    expect(readCoopDataset(data, 'imagenet_v2').splits.test.map((d) => [d.impath, d.label, d.classname])).toEqual([['0/x.jpeg', 0, 'tench'], ['1/x.jpeg', 1, 'goldfish']]);
    const cars = path.join(data, 'stanford_cars');
    const split = { train: [['cars_train/00001.jpg', 0, '2012 Audi TTS Coupe']], val: [['cars_train/00002.jpg', 0, '2012 Audi TTS Coupe']], test: [['cars_test/00001.jpg', 0, '2012 Audi TTS Coupe']] };
    for (const s of Object.values(split)) touch(path.join(cars, s[0][0] as string));
    writeFileSync(path.join(cars, 'split_zhou_StanfordCars.json'), JSON.stringify(split));
    expect(readCoopDataset(data, 'stanford_cars').splits.test[0].file).toBe(path.join(cars, 'cars_test', '00001.jpg'));
  });
});
