import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { addClass, addImages, cardSplit, classProblems, counts, deleteClass, deleteImage, markImageErrors, promptName, renameClass, setClassNew, splitImages, type CardImage, type ClassCard } from '../src/app/train/class-cards';
import { applyEvent, EMPTY_HISTORY } from '../src/app/train/history';
import { promptTokens } from '../src/app/train/prompt-tokens';
import { promptLayout } from '../src/engine/prompt';
import { tokenizerFromHfJson, type HfTokenizerJson } from '../src/tokenizer';
import { TOY_CLIP } from './helpers/fixture';

const tokenizer = tokenizerFromHfJson(JSON.parse(readFileSync(path.join(TOY_CLIP, 'tokenizer.json'), 'utf8')) as HfTokenizerJson);
let id = 1000;
const img = (split: 'train' | 'test' = 'train', name = `f${id}.jpg`): CardImage => ({ id: id++, name, blob: new Blob(['x']), url: '', split });

function cards(...spec: Array<[string, number, number?]>): ClassCard[] {
  let c: ClassCard[] = [];
  for (const [name, train, test = 0] of spec) {
    c = addClass(c, name);
    const card = c[c.length - 1];
    c = addImages(c, card.id, [...Array.from({ length: train }, () => img('train')), ...Array.from({ length: test }, () => img('test'))]);
  }
  return c;
}

describe('class cards', () => {
  it('adds, renames and deletes classes and images without touching the others', () => {
    const c0 = cards(['cat', 2], ['dog', 1]);
    const c1 = renameClass(c0, c0[1].id, 'wolf');
    expect(c1.map((c) => c.name)).toEqual(['cat', 'wolf']);
    expect(c1[0]).toBe(c0[0]);
    const c2 = deleteImage(c1, c1[0].images[0].id);
    expect(counts(c2[0]).train).toBe(1);
    expect(c2[1]).toBe(c1[1]);
    expect(deleteClass(c2, c2[0].id).map((c) => c.name)).toEqual(['wolf']);
    const broken = markImageErrors(c2, new Map([[c2[1].images[0].id, 'x.jpg is not an image the browser can decode']]));
    expect(counts(broken[1])).toEqual({ train: 0, test: 0, broken: 1 });
  });

  it('names what stops training: too few, unnamed, duplicate, empty and over-long classes', () => {
    expect(classProblems(cards(['cat', 1]))).toContain('Add at least two classes: CoOp learns to tell classes apart.');
    const p = classProblems(cards(['cat', 1], ['', 1], ['Cat', 1], ['big_dog', 0], ['big dog', 1]));
    expect(p).toContain('Class 2 has no name.');
    expect(p).toContain('Duplicate class: "cat" and "Cat" give the same prompt (case, spacing and _ are ignored).');
    expect(p).toContain('Class "big_dog" has no training images.');
    expect(p.some((m) => m.includes('"big_dog" and "big dog"'))).toBe(true);
    const long = 'a '.repeat(60).trim();
    const q = classProblems(cards(['cat', 1], [long, 1]), { tokenizer, nCtx: 16, contextLength: 77 });
    // [SOS] + 16 + 60 name tokens + '.' + [EOS] = 79 positions for 77.
    expect(q).toContain(
      `Class "${long}" is 2 tokens too long: its 60 name tokens, 16 context vectors, [SOS], "." and [EOS] exceed the text encoder's 77 positions.`,
    );
    expect(classProblems(cards(['cat', 0], ['dog', 0]), { needImages: false })).toEqual([]);
  });

  it('base-to-new marks: a new class needs no training images; no base class, or CSC, is refused with what to do', () => {
    const c0 = cards(['cat', 2], ['dog', 2], ['owl', 0, 1]);
    const c1 = setClassNew(c0, c0[2].id, true);
    expect(c1[0]).toBe(c0[0]);
    expect(cardSplit(c1)).toEqual({ base: [0, 1], new: [2] });
    expect(classProblems(c0)).toContain('Class "owl" has no training images.');
    expect(classProblems(c1)).toEqual([]);
    expect(classProblems(c1, { csc: true })[0]).toMatch(/^Class-specific context \(CSC\)/);
    const all = c1.reduce((c, card) => setClassNew(c, card.id, true), c1);
    expect(classProblems(all)).toContain('Every class is marked "new": keep at least one base class to train on (new classes are left out of training).');
    expect(setClassNew(c1, c1[2].id, false)[2].isNew).toBeUndefined();
  });

  it('uses explicit test images, else holds out a fixed fraction (keeping one training image)', () => {
    const c = cards(['cat', 8], ['dog', 4, 3], ['owl', 1]);
    const { train, test } = splitImages(c, 0.25);
    const per = (list: typeof train, k: number) => list.filter((l) => l.label === k).length;
    expect([per(train, 0), per(test, 0)]).toEqual([6, 2]);
    expect([per(train, 1), per(test, 1)]).toEqual([4, 3]);
    expect([per(train, 2), per(test, 2)]).toEqual([1, 0]);
    expect(splitImages(c, 0.25).test.map((t) => t.image.id)).toEqual(test.map((t) => t.image.id));
    expect(splitImages(c, 0).test.length).toBe(3);
  });
});

describe('prompt tokens (trainers/coop.py)', () => {
  it('builds [SOS] X…X name . [EOS] with _ as spaces, laid out as the engine expects', () => {
    expect(promptName('big_red_circle')).toBe('big red circle');
    const p = promptTokens(tokenizer, ['red_circle', 'star'], 4, 77);
    const row0 = Array.from(p.ids.subarray(0, 77));
    const name = tokenizer.encode('red circle');
    expect(p.nameLens).toEqual([name.length, tokenizer.encode('star').length]);
    expect(row0.slice(0, 1 + 4 + name.length + 2)).toEqual([tokenizer.sosId, ...Array(4).fill(tokenizer.encode('X')[0]), ...name, ...tokenizer.encode('.'), tokenizer.eosId]);
    expect(row0.slice(1 + 4 + name.length + 2).every((x) => x === 0)).toBe(true);
    // Same ids as tokenizing the original's "X X X X red circle." string.
    expect(row0).toEqual(Array.from(tokenizer.tokenize('X X X X red circle.')));
    const layout = promptLayout({ tokenIds: [p.ids.subarray(0, 77), p.ids.subarray(77)], nameLens: p.nameLens, nCtx: 4, csc: false, position: 'end' }, tokenizer.vocabSize);
    expect(layout.eos[0]).toBe(1 + 4 + name.length + 1);
    expect(() => promptTokens(tokenizer, ['a '.repeat(60)], 16, 77)).toThrow(/2 tokens too long/);
  });
});

describe('run history reducer', () => {
  const step = (n: number, epoch = 1) =>
    ({ type: 'step', step: n, epoch, stepInEpoch: n, stepsPerEpoch: 4, totalSteps: 8, loss: 2 - n / 10, lr: 1e-5, batchAcc: 0.5, elapsedMs: n * 100, stepsPerSec: 10 }) as const;

  it('logs a loss point per step, accuracies per epoch in percent, and the final status', () => {
    let h = applyEvent(EMPTY_HISTORY, step(1));
    h = applyEvent(h, step(2));
    expect(h.status).toBe('running');
    expect(h.loss.map((p) => p.step)).toEqual([1, 2]);
    expect(h.progress).toMatchObject({ step: 2, totalSteps: 8, elapsedMs: 200 });
    h = applyEvent(h, { type: 'epoch', epoch: 1, trainAcc: 0.5, testAcc: 0.25, metrics: { trainAcc: 0.5, testAcc: 0.25, shifted: 0.125 }, elapsedMs: 300 });
    expect(h.epochs).toEqual([{ epoch: 1, train: 50, test: 25, shifted: 12.5 }]);
    h = applyEvent(h, { type: 'epoch', epoch: 1, trainAcc: 0.75, metrics: { trainAcc: 0.75 }, elapsedMs: 300 });
    expect(h.epochs).toEqual([{ epoch: 1, train: 75 }]);
    expect(applyEvent(h, { type: 'stopped', epoch: 1, step: 2 }).status).toBe('stopped');
    expect(applyEvent(h, { type: 'done', epoch: 2, step: 8, elapsedMs: 900 }).status).toBe('done');
    const failed = applyEvent(h, { type: 'error', message: 'Loss became NaN at epoch 1 step 3', epoch: 1, stepInEpoch: 3 });
    expect(failed).toMatchObject({ status: 'failed', error: 'Loss became NaN at epoch 1 step 3' });
    expect(failed.loss).toHaveLength(2);
  });

  it('keeps "stopping" until the worker confirms the stop', () => {
    const h = applyEvent({ ...EMPTY_HISTORY, status: 'stopping' }, step(1));
    expect(h.status).toBe('stopping');
  });
});
