/**
 * The app's "Open dataset…" reader (src/cli/datasets/listing.ts) on file lists as a browser's folder pick gives them:
 * the same official subsets as Python's random and Dassl (tests/fixtures/dassl-split/splits.json), image-folder
 * trees, $DATA holding one dataset, and the refusals.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openListing, type ListedFile } from '../../src/cli/datasets/listing';

type Row = [string, number, string];
interface Ds { dataset: string; split: Record<'train' | 'val' | 'test', Row[]>; files?: Record<string, string>; classnames?: string; tree?: Record<string, Record<string, string[]>>; draws: Array<{ shots: number; seed: number; subsample: string; train: Row[]; test: Row[] }> }
const fixture = JSON.parse(readFileSync('tests/fixtures/dassl-split/splits.json', 'utf8')) as { datasets: Ds[] };

const file = (path: string, text = ''): ListedFile => ({ path, text: async () => text });

/** The fixture's dataset as the list of files a folder pick of `top` gives; `base` is where impaths start. */
function listing(ds: Ds, top: string): { files: ListedFile[]; base: string } {
  if (ds.dataset === 'dtd') {
    const rows = [...ds.split.train, ...ds.split.val, ...ds.split.test];
    return { files: [file(`${top}/split_zhou_DescribableTextures.json`, JSON.stringify(ds.split)), ...rows.map(([p]) => file(`${top}/images/${p}`))], base: `${top}/images/` };
  }
  if (ds.dataset === 'fgvc_aircraft') {
    const rows = [...ds.split.train, ...ds.split.val, ...ds.split.test];
    return { files: [...Object.entries(ds.files!).map(([n, t]) => file(`${top}/${n}`, t)), ...rows.map(([p]) => file(`${top}/images/${p}`))], base: `${top}/images/` };
  }
  const files = [file(`${top}/classnames.txt`, ds.classnames!)];
  for (const [split, folders] of Object.entries(ds.tree!)) for (const [w, fs] of Object.entries(folders)) for (const f of fs) files.push(file(`${top}/images/${split}/${w}/${f}`));
  return { files, base: `${top}/images/` };
}

describe('Open dataset…: the official subsets from a folder pick', () => {
  for (const ds of fixture.datasets) {
    it(`${ds.dataset}: every shots x seed as Python's random and Dassl give them`, async () => {
      const { files, base } = listing(ds, ds.dataset);
      for (const d of ds.draws.filter((x) => x.subsample === 'all')) {
        const o = await openListing(files.slice().reverse(), d.shots, d.seed);
        expect(o.name).toBe(ds.dataset);
        const rows = (items: typeof o.train) => items.map((i) => [i.file.path.slice(base.length), i.label, o.classNames[i.label]]);
        expect(rows(o.train), `${d.shots} shots seed ${d.seed}`).toEqual(d.train);
        expect(rows(o.test)).toEqual(d.test);
      }
    });
  }

  it('$DATA holding one dataset is opened; several are named', async () => {
    const { files } = listing(fixture.datasets[0], 'DATA/dtd');
    expect((await openListing(files, 1, 1)).name).toBe('dtd');
    const other = listing(fixture.datasets[1], 'DATA/fgvc_aircraft').files;
    await expect(openListing([...files, ...other], 1, 1)).rejects.toThrow(/holds several datasets \(fgvc_aircraft, dtd\)|holds several datasets/);
  });

  it('an image-folder tree: classes from train/, test/ per card, other splits as extra sets', async () => {
    const files = ['box', 'disc'].flatMap((c) => [0, 1, 2].flatMap((i) => [file(`demo/train/${c}/${i}.jpg`), file(`demo/test/${c}/${i}.jpg`), file(`demo/shifted/${c}/${i}.png`)]));
    const o = await openListing([...files, file('demo/train/box/notes.txt')], 2, 1);
    expect(o.classNames).toEqual(['box', 'disc']);
    expect(o.train).toHaveLength(4);
    expect(o.test).toHaveLength(6);
    expect(Object.keys(o.extra)).toEqual(['shifted']);
  });

  it('refuses a split that leaves the folder, and names missing images', async () => {
    const ds = fixture.datasets[0];
    const bad = structuredClone(ds.split);
    bad.train[0][0] = '../../secret.jpg';
    await expect(openListing([file('dtd/split_zhou_DescribableTextures.json', JSON.stringify(bad))], 1, 1)).rejects.toThrow(/"train" entry 0: the image path "\.\.\/\.\.\/secret\.jpg" is refused/);
    await expect(openListing([file('dtd/split_zhou_DescribableTextures.json', JSON.stringify(ds.split))], 1, 1)).rejects.toThrow(/image\(s\) named by dtd's split are not in the folder/);
    await expect(openListing([file('x/readme.txt')], 1, 1)).rejects.toThrow(/no dataset found/);
  });
});
