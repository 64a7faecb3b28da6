/**
 * The Train page's data: one card per class holding its labelled images, as pure functions over immutable
 * arrays so the store's reducers can be tested without a browser.
 */
import type { ClipTokenizer } from '../../tokenizer';
import { baseToNewProblems, classSplitFromMarks, type ClassSplit } from '../../coop/base-to-new';

export type ImageSplit = 'train' | 'test';

export interface CardImage {
  id: number;
  name: string;
  blob: Blob;
  /** Object URL of the thumbnail (revoked when the image is deleted). */
  url: string;
  split: ImageSplit;
  /** Set when the file cannot be used (not an image, too large); such images are left out of training. */
  error?: string;
}

export interface ClassCard {
  id: number;
  name: string;
  images: CardImage[];
  /**
   * Base-to-new (src/coop/base-to-new.ts): a "new" class is left out of training and scored only with the learned
   * unified context (or an adapter's zero-shot fallback) among the other new classes. Absent means base.
   */
  isNew?: boolean;
}

let nextId = 1;
export const newId = () => nextId++;

export function addClass(cards: readonly ClassCard[], name = ''): ClassCard[] {
  return [...cards, { id: newId(), name, images: [] }];
}

export function renameClass(cards: readonly ClassCard[], id: number, name: string): ClassCard[] {
  return cards.map((c) => (c.id === id ? { ...c, name } : c));
}

export function setClassNew(cards: readonly ClassCard[], id: number, isNew: boolean): ClassCard[] {
  return cards.map((c) => (c.id === id ? { ...c, isNew: isNew || undefined } : c));
}

/** Base and new classes of the cards; `new` is empty when none is marked (an ordinary run). */
export function cardSplit(cards: readonly ClassCard[]): ClassSplit {
  return classSplitFromMarks(cards.map((c) => !!c.isNew));
}

export function deleteClass(cards: readonly ClassCard[], id: number): ClassCard[] {
  return cards.filter((c) => c.id !== id);
}

export function addImages(cards: readonly ClassCard[], classId: number, images: readonly CardImage[]): ClassCard[] {
  return cards.map((c) => (c.id === classId ? { ...c, images: [...c.images, ...images] } : c));
}

export function deleteImage(cards: readonly ClassCard[], imageId: number): ClassCard[] {
  return cards.map((c) => (c.images.some((i) => i.id === imageId) ? { ...c, images: c.images.filter((i) => i.id !== imageId) } : c));
}

export function markImageErrors(cards: readonly ClassCard[], errors: ReadonlyMap<number, string>): ClassCard[] {
  if (errors.size === 0) return cards as ClassCard[];
  return cards.map((c) => ({ ...c, images: c.images.map((i) => (errors.has(i.id) ? { ...i, error: errors.get(i.id) } : i)) }));
}

/** CoOp's class-name handling (trainers/coop.py): underscores become spaces before tokenizing. */
export { promptName } from '../../coop/prompt-tokens';
import { promptName } from '../../coop/prompt-tokens';

export interface PromptFit {
  /** [SOS] + M context + name + '.' + [EOS] must fit the text encoder's context length. */
  tooLongBy: number;
  nameTokens: number;
}

export function promptFit(tokenizer: ClipTokenizer, name: string, nCtx: number, contextLength: number): PromptFit {
  const nameTokens = tokenizer.encode(promptName(name)).length;
  const dot = tokenizer.encode('.').length;
  return { nameTokens, tooLongBy: Math.max(0, 1 + nCtx + nameTokens + dot + 1 - contextLength) };
}

const canonical = (s: string) => promptName(s).toLowerCase().replace(/\s+/g, ' ');

export interface CardCounts {
  train: number;
  test: number;
  broken: number;
}

export function counts(card: ClassCard): CardCounts {
  let train = 0;
  let test = 0;
  let broken = 0;
  for (const i of card.images) {
    if (i.error) broken++;
    else if (i.split === 'train') train++;
    else test++;
  }
  return { train, test, broken };
}

/**
 * Everything that stops training, as messages a person can act on. `tokenizer` adds the over-long name check
 * (which depends on M, hence `nCtx`).
 */
export function classProblems(
  cards: readonly ClassCard[],
  opts: { tokenizer?: ClipTokenizer; nCtx?: number; contextLength?: number; needImages?: boolean; csc?: boolean } = {},
): string[] {
  const problems: string[] = [];
  if (cards.length < 2) problems.push('Add at least two classes: CoOp learns to tell classes apart.');
  problems.push(...baseToNewProblems(cardSplit(cards), !!opts.csc));
  const seen = new Map<string, string>();
  cards.forEach((c, i) => {
    const name = c.name.trim();
    if (!name) {
      problems.push(`Class ${i + 1} has no name.`);
      return;
    }
    const key = canonical(name);
    const first = seen.get(key);
    if (first !== undefined) {
      problems.push(
        first === name
          ? `Duplicate class: "${name}" appears more than once.`
          : `Duplicate class: "${first}" and "${name}" give the same prompt (case, spacing and _ are ignored).`,
      );
    } else seen.set(key, name);
    // A new class is never trained on: it needs no training images.
    if (opts.needImages !== false && !c.isNew && counts(c).train === 0) problems.push(`Class "${name}" has no training images.`);
    if (opts.tokenizer && opts.nCtx !== undefined) {
      try {
        const fit = promptFit(opts.tokenizer, name, opts.nCtx, opts.contextLength ?? 77);
        if (fit.tooLongBy > 0) {
          problems.push(
            `Class "${name}" is ${fit.tooLongBy} token${fit.tooLongBy === 1 ? '' : 's'} too long: its ${fit.nameTokens} name tokens, ` +
              `${opts.nCtx} context vectors, [SOS], "." and [EOS] exceed the text encoder's ${opts.contextLength ?? 77} positions.`,
          );
        }
      } catch (e) {
        problems.push(`Class "${name}" cannot be tokenized: ${(e as Error).message}.`);
      }
    }
  });
  return problems;
}

/** A labelled image chosen for a split, by class index. */
export interface LabelledImage {
  image: CardImage;
  label: number;
}

/**
 * Train and test images per class. A class's explicit test images are its test set; a class without any gives
 * its last round(fraction·n) training images instead (at least one training image stays), in a fixed order, so
 * the split does not change between runs.
 */
export function splitImages(cards: readonly ClassCard[], holdOut: number): { train: LabelledImage[]; test: LabelledImage[] } {
  const train: LabelledImage[] = [];
  const test: LabelledImage[] = [];
  cards.forEach((card, label) => {
    const usable = card.images.filter((i) => !i.error);
    const explicit = usable.filter((i) => i.split === 'test');
    const pool = usable.filter((i) => i.split === 'train');
    if (explicit.length > 0 || holdOut <= 0) {
      pool.forEach((image) => train.push({ image, label }));
      explicit.forEach((image) => test.push({ image, label }));
      return;
    }
    const held = Math.min(Math.round(holdOut * pool.length), Math.max(0, pool.length - 1));
    pool.forEach((image, i) => (i < pool.length - held ? train : test).push({ image, label }));
  });
  return { train, test };
}
