/**
 * Reads one dataset of CoOp's layout (catalog.ts) under $DATA into Dassl's train / val / test lists, in the order
 * CoOp's datasets/*.py build them. Where that order comes from the file system (ImageNet and its variants list
 * each class folder with os.listdir, unsorted), files are sorted by name instead, and the read says so.
 *
 * Every image is looked at once: a missing one, or one that is a device, FIFO, socket or folder, stops the read
 * with the entry that names it (Dassl's Datum asserts the same files exist).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { datasetInfo, type DatasetInfo } from './catalog';
import type { Datum, DatasetSplits } from './dassl-fewshot';
import { DatasetError, parseClassnames, parseFgvcSplit, parseSplitZhou, parseVariants, type SplitRow } from './split-file';

export interface CoopDataset {
  info: DatasetInfo;
  /** The dataset's folder ($DATA/<folder>). */
  root: string;
  splits: DatasetSplits;
  /** Things the user should know about how the lists were made. */
  notes: string[];
}

const where = (info: DatasetInfo) => `CoOp's DATASETS.md, section ${info.section}`;

/** $DATA/<folder>, or DIR itself when DIR is that folder already. */
export function datasetRoot(data: string, info: DatasetInfo): string {
  if (!existsSync(data) || !statSync(data).isDirectory()) throw new DatasetError(`--data ${data} is not a folder: give $DATA, the folder that holds ${info.folder}/ (${where(info)})`);
  const under = path.join(data, info.folder);
  if (existsSync(under)) return under;
  if (path.basename(path.resolve(data)) === info.folder) return data;
  throw new DatasetError(`${under} is missing: ${info.name} lives in $DATA/${info.folder}/ with ${info.fetch} (${where(info)})`);
}

function need(file: string, info: DatasetInfo, what: string): string {
  if (!existsSync(file)) throw new DatasetError(`${file} is missing: ${info.name} needs ${what} (${where(info)}: ${info.fetch})`);
  return file;
}

function checkFile(file: string, label: string): 'ok' | 'missing' {
  let st;
  try {
    st = statSync(file);
  } catch {
    return 'missing';
  }
  if (st.isFile()) return 'ok';
  const kind = st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isSocket() ? 'a socket' : st.isDirectory() ? 'a folder' : 'not a regular file';
  throw new DatasetError(`${label} names ${file}, which is ${kind}, not an image file: refused`);
}

function rowsToData(rows: SplitRow[], base: string, label: (i: number) => string, missing: string[]): Datum[] {
  return rows.map(([impath, y, classname], i) => {
    const file = path.join(base, impath);
    if (checkFile(file, label(i)) === 'missing') missing.push(`${label(i)}: ${file}`);
    return { impath, label: y, classname, file };
  });
}

function failMissing(missing: string[], info: DatasetInfo): void {
  if (!missing.length) return;
  throw new DatasetError(
    `${missing.length} image(s) named by ${info.name}'s split are missing, e.g.\n  ${missing.slice(0, 5).join('\n  ')}\n` +
      `Check that the images were extracted where ${where(info)} says (${info.fetch}).`,
  );
}

/** Regular files of a class folder, hidden ones left out (listdir_nohidden), sorted by name. */
function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    if (d.name.startsWith('.')) continue;
    const full = path.join(dir, d.name);
    if (d.isDirectory()) continue;
    if (d.isFile() || (d.isSymbolicLink() && checkFile(full, `the folder ${dir}`) === 'ok')) out.push(d.name);
    else if (!d.isSymbolicLink()) checkFile(full, `the folder ${dir}`);
  }
  return out.sort(byCodePoint);
}

function listDirs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => !d.name.startsWith('.') && (d.isDirectory() || (d.isSymbolicLink() && statSync(path.join(dir, d.name)).isDirectory())))
    .map((d) => d.name)
    .sort(byCodePoint);
}

/** Python's sorted() on str: by code point (JS's default compares UTF-16 units, which differs past U+FFFF). */
export function byCodePoint(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d) return d;
  }
  return x.length - y.length;
}

function classnameOf(names: Map<string, string>, folder: string, file: string): string {
  const n = names.get(folder);
  if (n === undefined) throw new DatasetError(`${file} has no line for the class folder '${folder}' ("${folder} <class name>")`);
  return n;
}

function readFolders(imageDir: string, folders: string[], names: Map<string, string>, namesFile: string, prefix: string): Datum[] {
  const out: Datum[] = [];
  folders.forEach((folder, label) => {
    const classname = classnameOf(names, folder, namesFile);
    for (const f of listFiles(path.join(imageDir, folder))) out.push({ impath: `${prefix}${folder}/${f}`, label, classname, file: path.join(imageDir, folder, f) });
  });
  return out;
}

export function readCoopDataset(data: string, name: string): CoopDataset {
  const info = datasetInfo(name);
  const root = datasetRoot(data, info);
  const notes: string[] = [];
  const L = info.layout;
  const missing: string[] = [];
  let splits: DatasetSplits;
  if (L.kind === 'split') {
    const file = need(path.join(root, L.splitFile), info, L.splitFile);
    const rows = parseSplitZhou(readFileSync(file, 'utf8'), file);
    const base = L.images ? need(path.join(root, L.images), info, `its image folder ${L.images}/`) : root;
    splits = {
      train: rowsToData(rows.train, base, (i) => `${file}: "train" entry ${i}`, missing),
      val: rowsToData(rows.val, base, (i) => `${file}: "val" entry ${i}`, missing),
      test: rowsToData(rows.test, base, (i) => `${file}: "test" entry ${i}`, missing),
    };
  } else if (L.kind === 'fgvc') {
    const variantsFile = need(path.join(root, 'variants.txt'), info, 'variants.txt');
    const variants = parseVariants(readFileSync(variantsFile, 'utf8'), variantsFile);
    const images = need(path.join(root, 'images'), info, 'its image folder images/');
    const read = (s: 'train' | 'val' | 'test') => {
      const file = need(path.join(root, `images_variant_${s}.txt`), info, `images_variant_${s}.txt`);
      const rows = parseFgvcSplit(readFileSync(file, 'utf8'), file, variants);
      return rowsToData(rows, images, (i) => `${file} entry ${i}`, missing);
    };
    splits = { train: read('train'), val: read('val'), test: read('test') };
  } else {
    const namesFile = need(path.join(root, 'classnames.txt'), info, 'classnames.txt ("<wnid> <class name>" per line)');
    const names = parseClassnames(readFileSync(namesFile, 'utf8'), namesFile);
    notes.push(`${info.name}: Dassl lists each class folder with os.listdir (file-system order); here its files are sorted by name, so the few-shot draw is reproducible anywhere (and equals Dassl's where listdir happens to be sorted)`);
    if (L.kind === 'imagenet') {
      const images = need(path.join(root, 'images'), info, 'images/train/ and images/val/');
      const trainDir = need(path.join(images, 'train'), info, 'images/train/<wnid>/');
      const valDir = need(path.join(images, 'val'), info, 'images/val/<wnid>/ (the official val images, CoOp\'s test set)');
      const train = readFolders(trainDir, listDirs(trainDir), names, namesFile, 'train/');
      const test = readFolders(valDir, listDirs(valDir), names, namesFile, 'val/');
      splits = { train, val: test, test };
    } else if (L.kind === 'imagenet_v2') {
      const images = need(path.join(root, L.images), info, `${L.images}/<0..999>/`);
      const folders = [...names.keys()];
      const test: Datum[] = [];
      folders.forEach((wnid, label) => {
        const dir = path.join(images, String(label));
        if (!existsSync(dir)) throw new DatasetError(`${dir} is missing: ImageNet-V2 has one folder per label 0..${folders.length - 1} (${where(info)})`);
        for (const f of listFiles(dir)) test.push({ impath: `${label}/${f}`, label, classname: names.get(wnid)!, file: path.join(dir, f) });
      });
      splits = { train: [], val: [], test };
    } else {
      const images = need(path.join(root, L.images), info, `${L.images}/<wnid>/`);
      // -A and -R hold 200 of the 1000 classes: labels 0..199 follow their sorted folders (README.txt is no class).
      const folders = listDirs(images).filter((f) => f !== 'README.txt');
      const test = readFolders(images, folders, names, namesFile, '');
      if (folders.length < names.size) notes.push(`${info.name}: ${folders.length} of the ${names.size} classes in classnames.txt have a folder; labels 0..${folders.length - 1} follow the sorted folders, as Dassl's reader`);
      splits = { train: [], val: [], test };
    }
  }
  failMissing(missing, info);
  if (!info.testOnly && splits.train.length === 0) throw new DatasetError(`${info.name}'s training split is empty (${root})`);
  if (splits.test.length === 0) throw new DatasetError(`${info.name}'s test split is empty (${root})`);
  return { info, root, splits, notes };
}
