/**
 * An image-folder dataset: DIR/train/<class>/* and any number of evaluation splits DIR/<split>/<class>/*.
 * Class names are the folder names with '_' read as a space, or come from DIR/classnames.txt ("folder name" per
 * line, in label order). Without classnames.txt the labels follow the training folders sorted by name.
 *
 * Files that are not images by their extension are skipped here and named; files that fail to decode are skipped
 * later by the feature extractor. Neither is ever fatal.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.bmp', '.tif', '.tiff', '.avif']);

export interface ImageItem {
  file: string;
  label: number;
}

export interface ImageFolderData {
  root: string;
  /** Folder names in label order. */
  folders: string[];
  /** Display names (classnames.txt or folder with '_' → ' '), in label order. */
  classNames: string[];
  train: ImageItem[];
  /** Evaluation splits in name order ('test' first when present). */
  splits: Record<string, ImageItem[]>;
  /** Messages about skipped files, empty folders and unseen classes. */
  warnings: string[];
}

const visible = (name: string) => !name.startsWith('.');

function listDirs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && visible(d.name))
    .map((d) => d.name)
    .sort();
}

function readClassNames(file: string): Map<string, string> {
  const map = new Map<string, string>();
  readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .forEach((line, i) => {
      const t = line.trim();
      if (!t || t.startsWith('#')) return;
      const sp = t.search(/\s/);
      const folder = sp < 0 ? t : t.slice(0, sp);
      const name = sp < 0 ? t.replace(/_/g, ' ') : t.slice(sp + 1).trim();
      if (map.has(folder)) throw new Error(`${file} line ${i + 1}: the folder '${folder}' is listed twice`);
      map.set(folder, name);
    });
  return map;
}

function listImages(dir: string, label: number, rel: string, warnings: string[]): ImageItem[] {
  const items: ImageItem[] = [];
  const skipped: string[] = [];
  for (const f of readdirSync(dir, { withFileTypes: true }).filter((d) => visible(d.name)).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (!f.isFile()) continue;
    if (!IMAGE_EXTENSIONS.has(path.extname(f.name).toLowerCase())) {
      skipped.push(f.name);
      continue;
    }
    items.push({ file: path.join(dir, f.name), label });
  }
  if (skipped.length) warnings.push(`${rel}: skipped ${skipped.length} file(s) that are not images: ${skipped.slice(0, 5).join(', ')}${skipped.length > 5 ? ', …' : ''}`);
  return items;
}

export function readImageFolder(root: string, only?: string[]): ImageFolderData {
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new Error(`--data ${root} is not a folder`);
  const trainDir = path.join(root, 'train');
  if (!existsSync(trainDir)) {
    throw new Error(`${root} has no train/ folder: the data must be laid out as DIR/train/<class>/*.jpg with evaluation splits as DIR/<split>/<class>/*.jpg`);
  }
  const warnings: string[] = [];
  const trainFolders = listDirs(trainDir);
  if (trainFolders.length === 0) throw new Error(`${trainDir} has no class folders: put each class's images in train/<class name>/`);
  const namesFile = path.join(root, 'classnames.txt');
  let folders = trainFolders;
  let classNames = trainFolders.map((f) => f.replace(/_/g, ' '));
  if (existsSync(namesFile)) {
    const map = readClassNames(namesFile);
    const missing = trainFolders.filter((f) => !map.has(f));
    if (missing.length) throw new Error(`${namesFile} does not name the training folder(s) ${missing.join(', ')}: add a line "folder name" for each`);
    folders = [...map.keys()].filter((f) => trainFolders.includes(f));
    classNames = folders.map((f) => map.get(f)!);
  }
  const train: ImageItem[] = [];
  folders.forEach((folder, label) => {
    const items = listImages(path.join(trainDir, folder), label, `train/${folder}`, warnings);
    if (items.length === 0) throw new Error(`train/${folder} holds no images: add some, or remove the folder to drop the class`);
    train.push(...items);
  });
  const splits: Record<string, ImageItem[]> = {};
  const splitNames = listDirs(root).filter((s) => s !== 'train' && (!only || only.includes(s)));
  if (only) for (const s of only) if (!splitNames.includes(s)) throw new Error(`there is no split '${s}' in ${root} (found: ${listDirs(root).filter((x) => x !== 'train').join(', ') || 'none'})`);
  splitNames.sort((a, b) => (a === 'test' ? -1 : b === 'test' ? 1 : a < b ? -1 : 1));
  for (const split of splitNames) {
    const items: ImageItem[] = [];
    for (const folder of listDirs(path.join(root, split))) {
      const label = folders.indexOf(folder);
      if (label < 0) {
        warnings.push(`${split}/${folder}: training never saw this class (no train/${folder}), so its images are left out of ${split}`);
        continue;
      }
      const got = listImages(path.join(root, split, folder), label, `${split}/${folder}`, warnings);
      if (got.length === 0) warnings.push(`${split}/${folder} holds no images`);
      items.push(...got);
    }
    if (items.length) splits[split] = items;
    else warnings.push(`${split}/ holds no images of the training classes and is not evaluated`);
  }
  return { root, folders, classNames, train, splits, warnings };
}
