/**
 * A dataset folder as a flat list of files (a browser's folder pick: webkitRelativePath), read without a file
 * system: CoOp's layout (catalog.ts, the same parsers and refusals as coop-layout.ts) or an image-folder tree
 * (train/<class>/*, other splits beside it), and its official few-shot subset for (shots, seed). The app's
 * "Open dataset…" fills its class cards from this; it holds no DOM or Node code.
 */
import { sampleFewShot } from '../../coop/fewshot';
import { DATASETS, type DatasetInfo } from './catalog';
import { classNamesOf, officialSubset } from './dassl-fewshot';
import { DatasetError, parseClassnames, parseFgvcSplit, parseSplitZhou, parseVariants, type SplitRow } from './split-file';

export interface ListedFile {
  /** Path below the chosen folder, '/'-separated, the chosen folder's own name first (as webkitRelativePath). */
  path: string;
  text(): Promise<string>;
}

export interface OpenedItem<F> {
  file: F;
  label: number;
}

export interface OpenedDataset<F> {
  /** The CoOp dataset's name, or 'image folder'. */
  name: string;
  classNames: string[];
  /** The few-shot training sample (Dassl's, for a CoOp dataset: a short class repeats images). */
  train: OpenedItem<F>[];
  test: OpenedItem<F>[];
  /** An image-folder tree's other splits. */
  extra: Record<string, OpenedItem<F>[]>;
  notes: string[];
}

const IMAGE = /\.(jpe?g|png|webp|gif|bmp|tiff?|avif)$/i;
const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export async function openListing<F extends ListedFile>(files: readonly F[], shots: number, seed: number): Promise<OpenedDataset<F>> {
  if (!files.length) throw new DatasetError('the folder is empty');
  // Paths below the chosen folder: its own name is the first segment of every path.
  let rel = new Map(files.map((f) => [f.path.split('/').slice(1).join('/'), f]));
  const top = new Set([...rel.keys()].map((p) => p.split('/')[0]));
  let info = detect(rel, top);
  if (!info) {
    // $DATA itself: one dataset folder below it is taken; several are named.
    const inside = DATASETS.filter((d) => top.has(d.folder) && !d.testOnly);
    if (inside.length > 1) throw new DatasetError(`this folder holds several datasets (${inside.map((d) => d.folder).join(', ')}): open one of them`);
    if (inside.length === 1) {
      const prefix = `${inside[0].folder}/`;
      rel = new Map([...rel].filter(([p]) => p.startsWith(prefix)).map(([p, f]) => [p.slice(prefix.length), f]));
      info = detect(rel, new Set([...rel.keys()].map((p) => p.split('/')[0])));
    }
  }
  if (info === 'folder') return imageFolder(rel, shots, seed);
  if (!info) {
    throw new DatasetError("no dataset found: open a folder in CoOp's layout (with its split_zhou_*.json, FGVC's variants.txt, or ImageNet's classnames.txt and images/train/) or an image-folder tree (train/<class>/ images)");
  }
  if (info.testOnly) throw new DatasetError(`${info.name} is evaluation only (no training split)`);
  const ds = await coopRows(info, rel);
  const find = (p: string) => rel.get(p);
  const missing: string[] = [];
  const attach = (rows: Array<SplitRow & { at: string }>) =>
    rows.flatMap((r) => {
      const [, label, classname] = r;
      const at = r.at;
      const f = find(at);
      if (!f) {
        missing.push(at);
        return [];
      }
      return [{ label, classname, file: f }];
    });
  const train = attach(ds.train);
  const val = attach(ds.val);
  const test = attach(ds.test);
  if (missing.length) throw new DatasetError(`${missing.length} image(s) named by ${info.name}'s split are not in the folder, e.g. ${missing.slice(0, 3).join(', ')}`);
  const sub = officialSubset({ train, val, test }, { shots, seed, subsample: 'all', valIsTest: info.name === 'imagenet' });
  const classNames = classNamesOf(train.map((d) => ({ ...d, impath: '', file: '' })));
  return { name: info.name, classNames, train: sub.train.map(({ file, label }) => ({ file, label })), test: sub.test.map(({ file, label }) => ({ file, label })), extra: {}, notes: ds.notes };
}

function detect(rel: Map<string, ListedFile>, top: Set<string>): DatasetInfo | 'folder' | null {
  for (const d of DATASETS) {
    const L = d.layout;
    if (L.kind === 'split' && rel.has(L.splitFile)) return d;
    if (L.kind === 'fgvc' && rel.has('variants.txt') && rel.has('images_variant_train.txt')) return d;
    if (L.kind === 'imagenet' && rel.has('classnames.txt') && [...rel.keys()].some((p) => p.startsWith('images/train/'))) return d;
  }
  return top.has('train') && [...rel.keys()].some((p) => /^train\/[^/]+\/[^/]+$/.test(p)) ? 'folder' : null;
}

async function coopRows(info: DatasetInfo, rel: Map<string, ListedFile>) {
  const L = info.layout;
  const withAt = (rows: SplitRow[], base: string) => rows.map((r) => Object.assign([...r] as SplitRow, { at: base ? `${base}/${r[0]}` : r[0] }) as SplitRow & { at: string });
  if (L.kind === 'split') {
    const split = parseSplitZhou(await rel.get(L.splitFile)!.text(), L.splitFile);
    const base = L.images ?? '';
    return { train: withAt(split.train, base), val: withAt(split.val, base), test: withAt(split.test, base), notes: [] as string[] };
  }
  if (L.kind === 'fgvc') {
    const variants = parseVariants(await rel.get('variants.txt')!.text(), 'variants.txt');
    const read = async (s: string) => {
      const f = rel.get(`images_variant_${s}.txt`);
      if (!f) throw new DatasetError(`images_variant_${s}.txt is missing from the folder`);
      return withAt(parseFgvcSplit(await f.text(), `images_variant_${s}.txt`, variants), 'images');
    };
    return { train: await read('train'), val: await read('val'), test: await read('test'), notes: [] as string[] };
  }
  // ImageNet: labels follow the sorted class folders, files sorted by name (Dassl lists them unsorted).
  const names = parseClassnames(await rel.get('classnames.txt')!.text(), 'classnames.txt');
  const folderRows = (split: string): Array<SplitRow & { at: string }> => {
    const prefix = `images/${split}/`;
    const paths = [...rel.keys()].filter((p) => p.startsWith(prefix) && p.split('/').length === 4 && !p.split('/')[3].startsWith('.'));
    const folders = [...new Set(paths.map((p) => p.split('/')[2]))].sort(byName);
    return folders.flatMap((w, label) => {
      const cname = names.get(w);
      if (cname === undefined) throw new DatasetError(`classnames.txt has no line for the class folder '${w}'`);
      return paths.filter((p) => p.split('/')[2] === w).sort(byName).map((p) => Object.assign([`${split}/${w}/${p.split('/')[3]}`, label, cname] as SplitRow, { at: p }));
    });
  };
  const test = folderRows('val');
  return { train: folderRows('train'), val: test, test, notes: ['ImageNet: files of each class folder sorted by name (Dassl lists them in file-system order)'] };
}

function imageFolder<F extends ListedFile>(rel: Map<string, F>, shots: number, seed: number): OpenedDataset<F> {
  const bySplit = new Map<string, Array<{ cls: string; file: F; name: string }>>();
  for (const [p, f] of rel) {
    const parts = p.split('/');
    if (parts.length !== 3 || !IMAGE.test(parts[2]) || parts.some((x) => x.startsWith('.'))) continue;
    const list = bySplit.get(parts[0]) ?? [];
    list.push({ cls: parts[1], file: f, name: parts[2] });
    bySplit.set(parts[0], list);
  }
  const classes = [...new Set((bySplit.get('train') ?? []).map((x) => x.cls))].sort(byName);
  const items = (split: string) =>
    (bySplit.get(split) ?? [])
      .filter((x) => classes.includes(x.cls))
      .sort((a, b) => classes.indexOf(a.cls) - classes.indexOf(b.cls) || byName(a.name, b.name))
      .map((x) => ({ file: x.file, label: classes.indexOf(x.cls) }));
  const all = items('train');
  const fs = sampleFewShot(all.map((x) => x.label), classes.length, shots, seed);
  const extra: Record<string, OpenedItem<F>[]> = {};
  for (const s of [...bySplit.keys()].filter((s) => s !== 'train' && s !== 'test').sort(byName)) extra[s] = items(s);
  return {
    name: 'image folder',
    classNames: classes.map((c) => c.replace(/_/g, ' ')),
    train: fs.indices.map((i) => all[i]),
    test: items('test'),
    extra,
    notes: fs.short.map((s) => `class '${classes[s.label]}' has only ${s.have} training image(s), fewer than ${shots}: all are used`),
  };
}
