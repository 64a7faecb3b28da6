/**
 * Hostile prompt files (issue 22): a huge array, n_ctx or a class list far past any prompt, a file past the size cap;
 * then mutated valid files under fast-check, each ending in a prompt or a refusal, never a throw.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { randomContext } from '../../src/coop/context-init';
import { parsePromptFile, promptFileSizeProblem, serializePromptFile, type LearnedPrompt, type PromptModel } from '../../src/coop/prompt-file';
import { withDefaults } from '../../src/coop/settings';
import { byteMutations, jsonMutations, mutateBytes, mutateJson, timed } from './mutate';

const FP = '1a2b3c4d'.repeat(8);
const toy: PromptModel = { id: 'toy-clip', fingerprint: FP, width: 6 };

function prompt(csc: boolean, extras = false): LearnedPrompt {
  const names = ['disc', 'box', 'wedge'];
  const context = randomContext({ nCtx: 4, dim: 6, csc, nClasses: 3, seed: 7 });
  // Version 2: a successor's tensors (a 2-D weight with an lr scale, a 3-D deep-token block) and its method.
  if (extras) {
    context.extras = [
      { name: 'mlp.weight', shape: [3, 6], data: Float32Array.from({ length: 18 }, (_, i) => i / 7), lrScale: 6.5 },
      { name: 'deep', shape: [2, 4, 6], data: Float32Array.from({ length: 48 }, (_, i) => -i / 9) },
    ];
  }
  return {
    model: { id: 'toy-clip', fingerprint: FP },
    context,
    ...(extras ? { method: { name: 'dept-coop' as const, settings: { base_classes: ['disc', 'box'], block: 2, template: 'a {}.' } } } : {}),
    position: 'end',
    init: { kind: 'random' },
    classNames: names,
    training: withDefaults({ nCtx: 4, csc, seed: 7, epochs: 5 }),
    metrics: { train_acc: 0.5 },
    nearestTokens: null,
    created: '2025-05-01T12:00:00.000Z',
  };
}
const doc = (csc: boolean, extras = false) => JSON.parse(serializePromptFile(prompt(csc, extras)));
const error = (d: unknown) => {
  const r = parsePromptFile(typeof d === 'string' ? d : JSON.stringify(d), toy);
  return r.ok ? 'accepted' : r.error;
};

describe('hostile prompt files', () => {
  it('a context vector with a million values is refused by its length, before any Float32Array is sized from it', () => {
    const d = doc(false);
    d.context[0] = new Array(1_000_000).fill(0);
    expect(error(d)).toBe('Context vector 0 has 1000000 values, but embed_dim is 6.');
  });

  it('n_ctx and class lists past any prompt are refused with the limit', () => {
    expect(error({ ...doc(false), n_ctx: 1e9 })).toBe('This prompt\'s "n_ctx" is 1000000000, over the limit of 74 (CLIP reads 77 tokens); no prompt has that many context vectors.');
    const names = Array.from({ length: 10_001 }, (_, i) => `c${i}`);
    expect(error({ ...doc(true), class_names: names })).toBe('This prompt\'s "class_names" is 10001 names, over the limit of 10000 classes.');
  });

  it('a file larger than the cap is refused by its size, as File.size or as text', () => {
    expect(promptFileSizeProblem(500 * 2 ** 20, 'huge.json')).toBe('huge.json is 500 MiB, over the limit of 128 MiB; no prompt file is that large (class-specific context for 1000 classes is about 90 MB).');
    expect(promptFileSizeProblem(2 ** 20, 'ok.json')).toBeNull();
    const r = parsePromptFile(' '.repeat(128 * 2 ** 20 + 1), toy);
    expect(r.ok ? '' : r.error).toBe('This file is 128 MiB of text, over the limit of 128 MiB; no prompt file is that large.');
  });

  it("an extra tensor's shape that declares more than its values hold is refused before anything is allocated", () => {
    const d = doc(false, true);
    d.extras[0].shape = [1e9, 1e9];
    expect(error(d)).toBe("Extra tensor 'mlp.weight' values has 3 entries, but the shape says 1000000000.");
    d.extras[0].shape = [3, 6e9];
    expect(error(d)).toBe("Extra tensor 'mlp.weight' values[0] has 6 entries, but the shape says 6000000000.");
    d.extras[0].shape = [3, 6];
    d.extras[0].values = new Array(3).fill(new Array(1_000_000).fill(0));
    expect(error(d)).toBe("Extra tensor 'mlp.weight' values[0] has 1000000 entries, but the shape says 6.");
  });

  it('extras, ranks and method settings past any method are refused with the limit', () => {
    const d = doc(false, true);
    const many = Array.from({ length: 257 }, (_, i) => ({ name: `t${i}`, shape: [1], values: [0] }));
    expect(error({ ...d, extras: many })).toBe('This prompt\'s "extras" is 257 tensors, over the limit of 256 tensors; no method learns that many.');
    const rank9 = { name: 'r', shape: new Array(9).fill(1), values: [[[[[[[[[0]]]]]]]]] };
    expect(error({ ...d, extras: [rank9] })).toBe('This prompt\'s extra tensor \'r\' "shape" is 9 dims, over the limit of 8 dims; no learned tensor has that many.');
    const settings = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, i]));
    expect(error({ ...d, method: { name: 'cocoop', settings } })).toBe('This prompt\'s method "settings" is 65 keys, over the limit of 64 keys.');
    expect(error({ ...d, method: { name: 'cocoop', settings: { s: 'x'.repeat(10_001) } } })).toMatch(/^Method setting "s" must be/);
    // A key named __proto__ stays a key, and reaches no prototype.
    const r = parsePromptFile(JSON.stringify({ ...d, method: { name: 'cocoop', settings: JSON.parse('{"__proto__": {"polluted": 1}}') } }), toy);
    expect(r.ok ? 'accepted' : r.error).toMatch(/^Method setting "__proto__" must be/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('class-specific context with a class entry of a million vectors is refused by its length', () => {
    const d = doc(true);
    d.context[1] = new Array(100_000).fill([0, 0, 0, 0, 0, 0]);
    expect(error(d)).toBe("Class 'box' has 100000 context vectors, but n_ctx is 4.");
  });
});

describe('mutated valid prompt files (fast-check)', () => {
  const check = (text: string, slowest: { ms: number }) => {
    const [r, ms] = timed(() => parsePromptFile(text, toy));
    slowest.ms = Math.max(slowest.ms, ms);
    expect(typeof r.ok).toBe('boolean');
    if (!r.ok) expect(r.error.length).toBeGreaterThan(5);
  };

  it('values replaced, removed or repeated, unified and class-specific: a prompt or a refusal', () => {
    const slowest = { ms: 0 };
    fc.assert(
      fc.property(fc.boolean(), jsonMutations, (csc, muts) => check(JSON.stringify(mutateJson(doc(csc), muts)), slowest)),
      { numRuns: 400, seed: 22 },
    );
    console.log(`prompt file, JSON mutations: slowest case ${slowest.ms.toFixed(1)} ms`);
  });

  it('version 2 (method, settings, extras) mutated: a prompt or a refusal', () => {
    const slowest = { ms: 0 };
    fc.assert(
      fc.property(fc.boolean(), jsonMutations, (csc, muts) => check(JSON.stringify(mutateJson(doc(csc, true), muts)), slowest)),
      { numRuns: 400, seed: 19 },
    );
    const text = new TextEncoder().encode(serializePromptFile(prompt(false, true)));
    fc.assert(
      fc.property(byteMutations, (muts) => check(new TextDecoder().decode(mutateBytes(text, muts)), slowest)),
      { numRuns: 300, seed: 19 },
    );
    console.log(`prompt file v2, JSON and byte mutations: slowest case ${slowest.ms.toFixed(1)} ms`);
  });

  it('text bytes flipped, cut or spliced: a prompt or a refusal', () => {
    const slowest = { ms: 0 };
    const text = new TextEncoder().encode(serializePromptFile(prompt(true)));
    fc.assert(
      fc.property(byteMutations, (muts) => check(new TextDecoder().decode(mutateBytes(text, muts)), slowest)),
      { numRuns: 400, seed: 22 },
    );
    console.log(`prompt file, byte mutations: slowest case ${slowest.ms.toFixed(1)} ms`);
  });
});

describe('deeply nested values', () => {
  it('a value nested 200,000 deep anywhere is refused, never a stack overflow out of the parser', () => {
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    for (const key of ['created', 'class_token_position', 'context', 'training', 'nearest_tokens', 'metrics', 'method', 'extras']) {
      const text = JSON.stringify({ ...doc(false, true), [key]: 'DEEP' }).replace('"DEEP"', deep);
      const r = parsePromptFile(text, toy);
      expect(r.ok, key).toBe(false);
    }
  });
});
