import { describe, expect, it } from 'vitest';
import { CSC_WORD_INIT_NOTE, contextShape, initContext, normalizeInitWords, randomContext, wordContext } from '../../src/coop/context-init';

describe('context init', () => {
  it('random unified: [M, D], N(0, 0.02), reproducible by seed', () => {
    const a = randomContext({ nCtx: 16, dim: 512, csc: false, nClasses: 8, seed: 1 });
    expect(contextShape(a)).toEqual([16, 512]);
    expect(a.data.length).toBe(16 * 512);
    const mean = a.data.reduce((s, x) => s + x, 0) / a.data.length;
    const std = Math.sqrt(a.data.reduce((s, x) => s + (x - mean) ** 2, 0) / a.data.length);
    expect(Math.abs(mean)).toBeLessThan(0.002);
    expect(std).toBeGreaterThan(0.019);
    expect(std).toBeLessThan(0.021);
    expect(randomContext({ nCtx: 16, dim: 512, csc: false, nClasses: 8, seed: 1 }).data).toEqual(a.data);
    expect(randomContext({ nCtx: 16, dim: 512, csc: false, nClasses: 8, seed: 2 }).data).not.toEqual(a.data);
  });

  it('random CSC: [K, M, D] with different vectors per class', () => {
    const c = randomContext({ nCtx: 4, dim: 8, csc: true, nClasses: 3, seed: 1 });
    expect(contextShape(c)).toEqual([3, 4, 8]);
    expect(c.data.subarray(0, 32)).not.toEqual(c.data.subarray(32, 64));
  });

  it('words: M is the token count and rows are the token embeddings', () => {
    const emb = (id: number) => Float32Array.from({ length: 3 }, (_, j) => id * 10 + j);
    const { ctx, note } = wordContext({ ids: [320, 1125, 539, 320], tokenEmbedding: emb, csc: false, nClasses: 5 });
    expect(note).toBeUndefined();
    expect(contextShape(ctx)).toEqual([4, 3]);
    expect([...ctx.data]).toEqual([3200, 3201, 3202, 11250, 11251, 11252, 5390, 5391, 5392, 3200, 3201, 3202]);
    expect(normalizeInitWords('a_photo_of_a')).toBe('a photo of a');
  });

  it('words with CSC: each class gets a copy, and the departure from the original is flagged', () => {
    const emb = (id: number) => Float32Array.of(id, -id);
    const { ctx, note } = wordContext({ ids: [1, 2], tokenEmbedding: emb, csc: true, nClasses: 2 });
    expect(contextShape(ctx)).toEqual([2, 2, 2]);
    expect([...ctx.data]).toEqual([1, -1, 2, -2, 1, -1, 2, -2]);
    expect(note).toBe(CSC_WORD_INIT_NOTE);
    // The copies are independent storage within one buffer: training one class must not move another.
    ctx.data[0] = 99;
    expect(ctx.data[4]).toBe(1);
  });

  it('refuses an empty init phrase', () => {
    expect(() => wordContext({ ids: [], tokenEmbedding: () => new Float32Array(2), csc: false, nClasses: 1 })).toThrow(/no tokens/);
  });
});

describe('initContext', () => {
  it('dispatches on the settings', () => {
    const random = initContext({ init: 'random', initWords: '', nCtx: 3, csc: true, seed: 2 }, { dim: 4, nClasses: 2 });
    expect(contextShape(random.ctx)).toEqual([2, 3, 4]);
    const encode = (t: string) => t.split(' ').map((w) => w.length);
    const words = initContext(
      { init: 'words', initWords: 'a_photo_of_a', nCtx: 16, csc: false, seed: 2 },
      { dim: 2, nClasses: 2, encode, tokenEmbedding: (id) => Float32Array.of(id, id) },
    );
    expect(contextShape(words.ctx)).toEqual([4, 2]);
    expect([...words.ctx.data]).toEqual([1, 1, 5, 5, 2, 2, 1, 1]);
    expect(() => initContext({ init: 'words', initWords: 'a', nCtx: 1, csc: false, seed: 1 }, { dim: 2, nClasses: 1 })).toThrow(/tokenizer/);
  });
});
