/**
 * Where `coop train` gets its images: an image-folder tree (src/cli/image-folder.ts, the few-shot sample drawn by
 * src/coop/fewshot.ts as the app does), or a dataset in CoOp's layout (coop-layout.ts, the official subset drawn
 * with Python's random as Dassl does), with the dataset's own zero-shot template and ensemble. For cross-dataset
 * and domain-generalization runs a source also carries targets: other datasets' test sets, scored with their own
 * class names.
 */
import { sampleFewShot } from '../../coop/fewshot';
import { DEFAULT_TEMPLATE, TEMPLATES } from '../../app/zero-shot/templates';
import { readImageFolder, type ImageItem } from '../image-folder';
import { datasetInfo } from './catalog';
import { readCoopDataset, type CoopDataset } from './coop-layout';
import { classNamesOf, officialSubset } from './dassl-fewshot';
import { ensembleTemplates } from './recipes';

export interface Target {
  /** The dataset's name; its accuracy is keyed by it. */
  name: string;
  classNames: string[];
  template: string;
  ensemble: string[];
  items: ImageItem[];
}

export interface FewShotDraw {
  /** Indices into `train` (a short class may repeat an image: Dassl's random.choices). */
  indices: number[];
  notes: string[];
}

export interface Source {
  /** 'folder' for an image-folder tree, else the CoOp dataset's name. */
  kind: 'folder' | 'coop';
  name: string;
  classNames: string[];
  /** Class folder names (image-folder) or class names, for messages. */
  folders: string[];
  train: ImageItem[];
  splits: Record<string, ImageItem[]>;
  warnings: string[];
  zsTemplate: string;
  ensemble: string[];
  ensembleLabel: string;
  targets: Target[];
  /**
   * The few-shot training sample of (shots, seed); with nBase, only the first nBase classes' items. `usable` says
   * which images decode: an image-folder tree draws among those only (as it always has); Dassl's draw is over the
   * split file's list as it stands.
   */
  fewShot(shots: number, seed: number, nBase: number | null, usable: (index: number) => boolean): FewShotDraw;
}

export function folderSource(dir: string, onlySplits?: string[]): Source {
  const data = readImageFolder(dir, onlySplits);
  return {
    kind: 'folder',
    name: dir,
    classNames: data.classNames,
    folders: data.folders,
    train: data.train,
    splits: data.splits,
    warnings: data.warnings,
    zsTemplate: DEFAULT_TEMPLATE,
    ensemble: [...TEMPLATES],
    ensembleLabel: `prompt ensembling (${TEMPLATES.length} templates)`,
    targets: [],
    fewShot(shots, seed, nBase, usable) {
      const pool = data.train.map((_, i) => i).filter((i) => usable(i) && (nBase === null || data.train[i].label < nBase));
      const fs = sampleFewShot(Int32Array.from(pool, (i) => data.train[i].label), nBase ?? data.classNames.length, shots, seed);
      return {
        indices: fs.indices.map((j) => pool[j]),
        notes: fs.short.map((s) => `class '${data.classNames[s.label]}' has only ${s.have} training image(s), fewer than ${shots} shots: all of them are used (seed ${seed})`),
      };
    },
  };
}

const toItems = (ds: CoopDataset, which: 'train' | 'test'): ImageItem[] => ds.splits[which].map((d) => ({ file: d.file, label: d.label }));

export function coopSource(data: string, name: string, targetNames: readonly string[] = [], log: (s: string) => void = () => {}): Source {
  const ds = readCoopDataset(data, name);
  if (ds.info.testOnly) throw new Error(`${name} is evaluation only (no training split): train on imagenet and evaluate on it with --protocol dg`);
  for (const n of ds.notes) log(`note: ${n}`);
  const classNames = classNamesOf(ds.splits.train);
  // The split's own objects carry their index (ImageNet's 1.28 M training items are not copied): a Datum is already
  // an ImageItem (file, label), so `train` below is this very list.
  const indexed = ds.splits.train.map((d, i) => Object.assign(d, { index: i }));
  const valItems = ds.splits.val.map((d) => Object.assign(d, { index: -1 }));
  const targets = targetNames.map((t) => {
    const td = readCoopDataset(data, t);
    for (const n of td.notes) log(`note: ${n}`);
    return { name: t, classNames: classNamesOf(td.splits.test), template: td.info.template, ensemble: ensembleTemplates(td.info), items: toItems(td, 'test') };
  });
  const ensemble = ensembleTemplates(ds.info);
  return {
    kind: 'coop',
    name,
    classNames,
    folders: classNames,
    train: indexed,
    splits: { test: toItems(ds, 'test') },
    warnings: [],
    zsTemplate: datasetInfo(name).template,
    ensemble,
    ensembleLabel: `prompt ensembling (CoOp's ${ensemble.length} templates)`,
    targets,
    fewShot(shots, seed, nBase) {
      // Dassl draws over every class (the stream depends on all of them); base-to-new keeps the base part after.
      const sub = officialSubset({ train: indexed, val: valItems, test: [] }, { shots, seed, subsample: 'all', valIsTest: name === 'imagenet' });
      const kept = sub.train.filter((d) => nBase === null || d.label < nBase);
      const counts = new Map<number, Set<number>>();
      for (const d of kept) counts.set(d.label, (counts.get(d.label) ?? new Set()).add(d.index));
      const notes = [...counts].filter(([, s]) => s.size < shots).map(([y, s]) => `class '${classNames[y]}' has ${s.size} training image(s), fewer than ${shots} shots: Dassl draws ${shots} of them with replacement (random.choices, seed ${seed})`);
      return { indices: kept.map((d) => d.index), notes };
    },
  };
}
