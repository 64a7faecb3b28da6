import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tokenizerFromHfJson } from '../src/tokenizer';
import { parseClassNames } from '../src/app/zero-shot/classes';
import { ensembleClassFeatures, normalizeRows, topK, zeroShotProbabilities } from '../src/app/zero-shot/scores';
import { checkTemplate, fillTemplate } from '../src/app/zero-shot/templates';
import { classFeatures, ClassNameError, tokenizePrompts } from '../src/app/zero-shot/text-features';

const tokenizer = tokenizerFromHfJson(
  JSON.parse(readFileSync(resolve(__dirname, '../public/models/toy-clip/tokenizer.json'), 'utf8')),
);

describe('class names', () => {
  it('takes one name per line, trimmed, skipping blank lines', () => {
    expect(parseClassNames(' cat \n\n dog\r\n')).toEqual({ names: ['cat', 'dog'], problems: [] });
  });

  it('asks for at least two classes', () => {
    expect(parseClassNames('  \n').problems).toEqual(['Type at least two class names, one per line.']);
    expect(parseClassNames('cat').problems[0]).toMatch(/^Add a second class/);
  });

  it('reports each duplicate once, including ones the tokenizer would merge', () => {
    expect(parseClassNames('cat\ndog\ncat\ncat').problems).toEqual(['Duplicate class: "cat" appears more than once.']);
    expect(parseClassNames('Red  Car\nred car').problems).toEqual([
      'Duplicate class: "Red  Car" and "red car" differ only in case or spacing, which the tokenizer ignores.',
    ]);
  });
});

describe('templates', () => {
  it('fills {} and refuses a template without it', () => {
    expect(fillTemplate('a photo of a {}.', 'cat')).toBe('a photo of a cat.');
    expect(checkTemplate('a photo')).toBe('The template "a photo" has no {} where the class name goes.');
    expect(checkTemplate('a {}')).toBeNull();
  });
});

describe('zero-shot scores', () => {
  it('ensembles as CLIP does: normalise each, average, renormalise', () => {
    // Class 0 under two templates: [3, 4] and [0, 2] → units [0.6, 0.8], [0, 1] → mean [0.3, 0.9] → renormalised.
    const text = Float32Array.from([3, 4, 0, 2, 1, 0, 5, 0]);
    const f = ensembleClassFeatures(text, 2, 2, 2);
    const n = Math.hypot(0.3, 0.9);
    [0.3 / n, 0.9 / n, 1, 0].forEach((v, i) => expect(f[i]).toBeCloseTo(v, 6));
    expect(Array.from(ensembleClassFeatures(text, 4, 1, 2))).toEqual(Array.from(normalizeRows(text, 2)));
  });

  it('gives softmax(scale · cosine) over classes', () => {
    const classes = normalizeRows(Float32Array.from([1, 0, 0, 1, 1, 1]), 2);
    const p = zeroShotProbabilities(Float32Array.from([2, 0]), classes, 10);
    const logits = [10, 0, 10 / Math.SQRT2];
    const z = logits.reduce((s, l) => s + Math.exp(l), 0);
    logits.forEach((l, k) => expect(p[k]).toBeCloseTo(Math.exp(l) / z, 6));
    expect(topK(p, 2)).toEqual([0, 2]);
  });

  it('breaks ties by class order', () => {
    expect(topK([0.5, 0.2, 0.5], 3)).toEqual([0, 2, 1]);
  });
});

describe('class text features', () => {
  it('tokenizes class × template rows in order', () => {
    const { ids, problems } = tokenizePrompts(tokenizer, ['circle', 'square'], ['a {}.', 'a photo of a {}.'], 77);
    expect(problems).toEqual([]);
    expect(Array.from(ids.subarray(77, 154))).toEqual(Array.from(tokenizer.tokenize('a photo of a circle.')));
    expect(Array.from(ids.subarray(154, 231))).toEqual(Array.from(tokenizer.tokenize('a square.')));
  });

  it('names every class that is too long, with the tokenizer message', async () => {
    const long = 'square '.repeat(80).trim();
    const encoder = { spec: { contextLength: 77, embedDim: 2 }, encodeIds: async () => new Float32Array() };
    const error = await classFeatures(encoder, tokenizer, ['circle', long, `${long} x`], ['a photo of a {}.']).catch((e) => e);
    expect(error).toBeInstanceOf(ClassNameError);
    expect(error.problems).toHaveLength(2);
    expect(error.problems[0]).toMatch(/^Class "square square .*" is too long for the text encoder in "a photo of a square .*": Text is \d+ tokens too long \(\d+ > 77\)\.$/);
  });

  it('runs the text tower once for all prompts and returns unit class features', async () => {
    const calls: number[] = [];
    const encoder = {
      spec: { contextLength: 77, embedDim: 2 },
      encodeIds: async (_ids: Int32Array, rows: number) => {
        calls.push(rows);
        return Float32Array.from({ length: rows * 2 }, (_, i) => i + 1);
      },
    };
    const f = await classFeatures(encoder, tokenizer, ['circle', 'square'], ['a {}.', 'the {}.', 'one {}.']);
    expect(calls).toEqual([6]);
    for (let k = 0; k < 2; k++) expect(Math.hypot(f[2 * k], f[2 * k + 1])).toBeCloseTo(1, 6);
  });
});
