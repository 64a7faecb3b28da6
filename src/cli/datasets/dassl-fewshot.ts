/**
 * The official few-shot subsets, item for item: Dassl's DatasetBase.generate_fewshot_dataset and CoOp's
 * subsample_classes, drawn with Python's `random` (python-random.ts) after `random.seed(seed)` as Dassl's
 * set_random_seed does before the dataset is built.
 *
 * generate_fewshot_dataset groups the items by label in first-seen order and, per group, takes
 * random.sample(items, K) where the class has at least K items, else random.choices(items, k=K): CoOp calls it
 * with Dassl's default repeat=True, so a short class is drawn with replacement and may repeat an image.
 */
import { PythonRandom } from './python-random';

export interface Datum {
  /** As the split file names it (relative to the dataset's image folder, or its root for Stanford Cars). */
  impath: string;
  label: number;
  classname: string;
  /** Absolute path of the image on this machine. */
  file: string;
}

export type Subsample = 'all' | 'base' | 'new';

export interface DatasetSplits {
  train: Datum[];
  val: Datum[];
  test: Datum[];
}

export function generateFewshotDataset<T extends { label: number }>(items: readonly T[], shots: number, rng: PythonRandom): T[] {
  if (shots < 1) return items.slice();
  const groups = new Map<number, T[]>();
  for (const it of items) {
    const g = groups.get(it.label);
    if (g) g.push(it);
    else groups.set(it.label, [it]);
  }
  const out: T[] = [];
  for (const g of groups.values()) out.push(...(g.length >= shots ? rng.sample(g, shots) : rng.choices(g, shots)));
  return out;
}

/**
 * subsample_classes: the labels present in the first set, sorted; the first ceil(n / 2) are base, the rest new;
 * every set keeps the chosen labels' items, relabelled 0.. in sorted label order.
 */
export function subsampleClasses<T extends { label: number }>(sets: readonly (readonly T[])[], which: Subsample): T[][] {
  if (which === 'all') return sets.map((s) => s.slice());
  const labels = [...new Set(sets[0].map((d) => d.label))].sort((a, b) => a - b);
  const m = Math.ceil(labels.length / 2);
  const selected = which === 'base' ? labels.slice(0, m) : labels.slice(m);
  const relabel = new Map(selected.map((y, i) => [y, i]));
  return sets.map((s) => s.filter((d) => relabel.has(d.label)).map((d) => ({ ...d, label: relabel.get(d.label)! })));
}

export interface OfficialSubsetOptions {
  shots: number;
  seed: number;
  subsample: Subsample;
  /**
   * ImageNet draws no few-shot val: Dassl's ImageNet passes its test set (the official val images) as val.
   * Datasets with a split file draw val with min(shots, 4) right after train, from the same stream.
   */
  valIsTest: boolean;
}

/** What CoOp's dataset classes build for (shots, seed, subsample): train, val and test in Dassl's order. */
export function officialSubset<T extends { label: number }>(splits: { train: T[]; val: T[]; test: T[] }, o: OfficialSubsetOptions): { train: T[]; val: T[]; test: T[] } {
  const rng = new PythonRandom(o.seed);
  let train = splits.train;
  let val = o.valIsTest ? splits.test : splits.val;
  if (o.shots >= 1) {
    train = generateFewshotDataset(splits.train, o.shots, rng);
    if (!o.valIsTest) val = generateFewshotDataset(splits.val, Math.min(o.shots, 4), rng);
  }
  const [t, v, te] = subsampleClasses([train, val, splits.test], o.subsample);
  return { train: t, val: v, test: te };
}

/** Class names in label order, as Dassl's get_lab2cname reads them off a set. */
export function classNamesOf(items: readonly Datum[]): string[] {
  const byLabel = new Map<number, string>();
  for (const d of items) byLabel.set(d.label, d.classname);
  const n = byLabel.size ? Math.max(...byLabel.keys()) + 1 : 0;
  return Array.from({ length: n }, (_, i) => byLabel.get(i) ?? `class ${i}`);
}
