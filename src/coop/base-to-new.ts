/**
 * Base-to-new generalization (CoCoOp's protocol, Zhou et al. CVPR 2022 §4.1): the classes are split into base and
 * new; a method trains on the base classes only, then each split is scored twice: its base-class images among the
 * base classes, and its new-class images among the new classes. The harmonic mean of the two (results-table.ts
 * `harmonicMean`) is the benchmark's number. A unified learned context is evaluated on the new classes' names as
 * is; Tip-Adapter's cache has no entries for new classes, so on them it is zero-shot CLIP (its text-only part).
 *
 * The command line (`coop train --base-to-new`) and the app (classes marked "new") both score through these
 * functions, so both report the same numbers for the same features.
 */
import { accuracy } from './metrics';

/** Class indices (into the full class list) of each part, ascending. */
export interface ClassSplit {
  base: number[];
  new: number[];
}

/** The split from per-class "new" marks (the app's cards). */
export function classSplitFromMarks(isNew: readonly boolean[]): ClassSplit {
  const base: number[] = [];
  const nw: number[] = [];
  isNew.forEach((n, i) => (n ? nw : base).push(i));
  return { base, new: nw };
}

/** The first `nBase` classes are base, the rest new (the command line's --base N, label order). */
export function classSplitFirst(nClasses: number, nBase: number): ClassSplit {
  return classSplitFromMarks(Array.from({ length: nClasses }, (_, i) => i >= nBase));
}

/**
 * What stops a base-to-new run, as messages a person can act on: no base class to train on; class-specific context
 * (it learns one context per base class and has none for a new one).
 */
export function baseToNewProblems(split: ClassSplit, csc: boolean): string[] {
  if (split.new.length === 0) return [];
  const problems: string[] = [];
  if (split.base.length < 1) problems.push('Every class is marked "new": keep at least one base class to train on (new classes are left out of training).');
  if (csc) problems.push('Class-specific context (CSC) learns one context per base class and has none for new classes: turn CSC off, or clear the "new" marks.');
  return problems;
}

export interface LabelledFeatures {
  name: string;
  /** L2-normalized [N, E]. */
  features: Float32Array;
  /** Class index per row, into the full class list. */
  labels: Int32Array;
}

/** The rows of `s` whose class is in `classes`, relabelled to positions in `classes`. */
export function subsetClasses<T extends LabelledFeatures>(s: T, classes: readonly number[], dim: number): T {
  const map = new Map(classes.map((c, i) => [c, i]));
  const keep: number[] = [];
  for (let i = 0; i < s.labels.length; i++) if (map.has(s.labels[i])) keep.push(i);
  const features = new Float32Array(keep.length * dim);
  keep.forEach((i, r) => features.set(s.features.subarray(i * dim, (i + 1) * dim), r * dim));
  return { ...s, features, labels: Int32Array.from(keep, (i) => map.get(s.labels[i])!) };
}

/** Predicted class (position in its part's class list) per row of [N, E] features. */
export type Predictor = (features: Float32Array, n: number) => Int32Array;

/** The accuracy keys of a split under base-to-new. */
export const baseKey = (split: string) => `${split}/base`;
export const newKey = (split: string) => `${split}/new`;

export interface BaseToNewPart {
  /** `${split}/base` or `${split}/new`. */
  key: string;
  part: 'base' | 'new';
  /** The split's rows of that part's classes, labelled by position in the part. */
  sub: LabelledFeatures;
}

/** The parts a base-to-new evaluation scores (new parts only `withNew`); a part with no rows is left out. */
export function baseToNewParts(sets: readonly LabelledFeatures[], split: ClassSplit, dim: number, withNew: boolean): BaseToNewPart[] {
  const out: BaseToNewPart[] = [];
  for (const s of sets) {
    out.push({ key: baseKey(s.name), part: 'base', sub: subsetClasses(s, split.base, dim) });
    if (withNew) out.push({ key: newKey(s.name), part: 'new', sub: subsetClasses(s, split.new, dim) });
  }
  return out.filter((p) => p.sub.labels.length > 0);
}

/**
 * Accuracies in [0, 1] keyed `${split}/base` and `${split}/new`: each split's base-class rows scored by `base` among
 * the base classes, its new-class rows by `nw` among the new classes (`nw` null: the method has no answer for new
 * classes, e.g. the linear probe). A part with no rows in a split gets no key. `predictions` holds the predicted
 * class (position in its part) per row of each scored part, under the same keys.
 */
export function baseToNewScores(
  sets: readonly LabelledFeatures[],
  split: ClassSplit,
  dim: number,
  base: Predictor,
  nw: Predictor | null,
): { accuracies: Record<string, number>; predictions: Record<string, Int32Array> } {
  const accuracies: Record<string, number> = {};
  const predictions: Record<string, Int32Array> = {};
  for (const { key, part, sub } of baseToNewParts(sets, split, dim, nw !== null)) {
    predictions[key] = (part === 'base' ? base : nw!)(sub.features, sub.labels.length);
    accuracies[key] = accuracy(predictions[key], sub.labels);
  }
  return { accuracies, predictions };
}

export function baseToNewAccuracies(sets: readonly LabelledFeatures[], split: ClassSplit, dim: number, base: Predictor, nw: Predictor | null): Record<string, number> {
  return baseToNewScores(sets, split, dim, base, nw).accuracies;
}

/** Rows `classes` of a row-major [K, E] matrix (e.g. text features), in that order. */
export function pickRows(m: Float32Array, classes: readonly number[], dim: number): Float32Array {
  const out = new Float32Array(classes.length * dim);
  classes.forEach((c, i) => out.set(m.subarray(c * dim, (c + 1) * dim), i * dim));
  return out;
}
