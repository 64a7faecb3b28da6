/**
 * The text files of CoOp's layout, parsed and checked before any path is touched: split_zhou_*.json
 * (`{"train"|"val"|"test": [[impath, label, classname], ...]}`), FGVC-Aircraft's variants.txt and
 * images_variant_*.txt, ImageNet's classnames.txt. Each rule is the official reader's (CoOp datasets/*.py); what it
 * would crash on, or what could reach outside the dataset, is refused with a DatasetError naming the file and the
 * entry or line.
 *
 * A path from a file must stay inside the dataset folder: absolute paths, '..' segments, backslashes and NUL bytes
 * are refused here (lexically); devices, FIFOs and sockets are refused when the files are looked at (coop-layout.ts).
 */

export class DatasetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatasetError';
  }
}

export type SplitRow = [impath: string, label: number, classname: string];
export type SplitRows = Record<'train' | 'val' | 'test', SplitRow[]>;

/** Why `rel` may not be used as a path inside the dataset folder, or null when it may. */
export function unsafeRelativePath(rel: string): string | null {
  if (rel.length === 0) return 'it is empty';
  if (rel.includes('\0')) return 'it contains a NUL byte';
  if (rel.includes('\\')) return 'it contains a backslash (paths in CoOp\'s split files use "/")';
  if (rel.startsWith('/') || /^[A-Za-z]:/.test(rel)) return 'it is absolute, and would leave the dataset folder';
  const parts = rel.split('/');
  if (parts.includes('..')) return "it has a '..' segment, and would leave the dataset folder";
  if (parts.some((p) => p === '' || p === '.')) return "it has an empty or '.' segment";
  return null;
}

const SPLITS = ['train', 'val', 'test'] as const;

export function parseSplitZhou(text: string, file: string): SplitRows {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new DatasetError(`${file} is not valid JSON (${(e as Error).message}): download it again from the link in CoOp's DATASETS.md`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new DatasetError(`${file} must be a JSON object with "train", "val" and "test" lists`);
  }
  const obj = data as Record<string, unknown>;
  const out = {} as SplitRows;
  for (const split of SPLITS) {
    const list = obj[split];
    if (!Array.isArray(list)) throw new DatasetError(`${file} has no "${split}" list (it needs "train", "val" and "test" lists of [impath, label, classname])`);
    out[split] = list.map((entry, i) => {
      const where = `${file}: "${split}" entry ${i}`;
      if (!Array.isArray(entry) || entry.length !== 3) throw new DatasetError(`${where} must be [impath, label, classname], got ${short(entry)}`);
      const [impath, label, classname] = entry as unknown[];
      if (typeof impath !== 'string') throw new DatasetError(`${where}: the image path must be a string, got ${short(impath)}`);
      const bad = unsafeRelativePath(impath);
      if (bad) throw new DatasetError(`${where}: the image path ${short(impath)} is refused: ${bad}`);
      if (typeof label !== 'number' || !Number.isSafeInteger(label) || label < 0) throw new DatasetError(`${where}: the label must be an integer ≥ 0, got ${short(label)}`);
      if (typeof classname !== 'string') throw new DatasetError(`${where}: the class name must be a string, got ${short(classname)}`);
      return [impath, label, classname] as SplitRow;
    });
  }
  return out;
}

/** Python's `line.strip()` then `split(" ")`, over readlines(): the official readers' tokenization. */
function lines(text: string): string[] {
  const ls = text.split('\n');
  if (ls.length && ls[ls.length - 1] === '') ls.pop();
  return ls.map((l) => l.replace(/^[\s\uFEFF]+|\s+$/g, ''));
}

/** variants.txt: one class per line, label = line number. Trailing blank lines are dropped (they name no class). */
export function parseVariants(text: string, file: string): string[] {
  const names = lines(text);
  while (names.length && names[names.length - 1] === '') names.pop();
  const seen = new Map<string, number>();
  names.forEach((n, i) => {
    if (n === '') throw new DatasetError(`${file} line ${i + 1} is blank: every line names one aircraft variant, and a blank one would shift the labels after it`);
    if (seen.has(n)) throw new DatasetError(`${file} line ${i + 1}: '${n}' is listed twice (first on line ${seen.get(n)! + 1})`);
    seen.set(n, i);
  });
  if (!names.length) throw new DatasetError(`${file} lists no variants`);
  return names;
}

/** images_variant_<split>.txt: "<image id> <variant name>" per line; the image is images/<id>.jpg. */
export function parseFgvcSplit(text: string, file: string, variants: readonly string[]): SplitRow[] {
  const lab = new Map(variants.map((v, i) => [v, i]));
  const out: SplitRow[] = [];
  lines(text).forEach((line, i) => {
    if (line === '') return;
    const parts = line.split(' ');
    const id = parts[0];
    const name = parts.slice(1).join(' ');
    const where = `${file} line ${i + 1}`;
    const bad = unsafeRelativePath(`${id}.jpg`);
    if (bad || id.includes('/')) throw new DatasetError(`${where}: the image id ${short(id)} is refused: ${bad ?? 'an image id is a file name, not a path'}`);
    const label = lab.get(name);
    if (label === undefined) throw new DatasetError(`${where}: the variant ${short(name)} is not in variants.txt`);
    out.push([`${id}.jpg`, label, name]);
  });
  return out;
}

/** classnames.txt: "<folder> <class name>" per line, in order (an OrderedDict: a repeated folder keeps its place). */
export function parseClassnames(text: string, file: string): Map<string, string> {
  const map = new Map<string, string>();
  lines(text).forEach((line, i) => {
    if (line === '') return;
    const parts = line.split(' ');
    const folder = parts[0];
    const bad = unsafeRelativePath(folder);
    if (bad || folder.includes('/')) throw new DatasetError(`${file} line ${i + 1}: the folder name ${short(folder)} is refused: ${bad ?? 'a folder name has no "/"'}`);
    map.set(folder, parts.slice(1).join(' '));
  });
  if (!map.size) throw new DatasetError(`${file} lists no classes ("<folder> <class name>" per line)`);
  return map;
}

function short(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
