import { describe, expect, it } from 'vitest';
import { randomContext } from '../../src/coop/context-init';
import { parsePromptFile, promptFileName, serializePromptFile, type LearnedPrompt, type PromptModel } from '../../src/coop/prompt-file';
import { withDefaults } from '../../src/coop/settings';

const FP = '1a2b3c4d'.repeat(8);
const toy: PromptModel = { id: 'toy-clip', fingerprint: FP, width: 6 };
const names = ['disc', 'box', 'wedge'];

function prompt(csc: boolean): LearnedPrompt {
  return {
    model: { id: 'toy-clip', fingerprint: FP },
    context: randomContext({ nCtx: 4, dim: 6, csc, nClasses: 3, seed: 7 }),
    position: 'middle',
    init: csc ? { kind: 'random' } : { kind: 'words', words: 'a photo of a' },
    classNames: names,
    training: withDefaults({ nCtx: 4, csc, position: 'middle', seed: 7, epochs: 50 }),
    metrics: { train_acc: 0.875, test_acc: 2 / 3, epochs_trained: 50, per_class_empty: NaN },
    nearestTokens: csc
      ? names.map(() => Array.from({ length: 4 }, () => [{ id: 320, token: 'a</w>', distance: 1.25 }]))
      : [Array.from({ length: 4 }, (_, m) => [{ id: m, token: `t${m}`, distance: 0.5 + m }, { id: 9, token: 'x', distance: 7 }])],
    created: '2025-05-01T12:00:00.000Z',
  };
}

/** The serialized unified prompt as an object, to break in one place per test. */
const doc = (csc = false) => JSON.parse(serializePromptFile(prompt(csc)));
const refusal = (d: unknown, model = toy) => {
  const r = parsePromptFile(typeof d === 'string' ? d : JSON.stringify(d), model);
  expect(r.ok).toBe(false);
  return r.ok ? '' : r.error;
};

describe('prompt file', () => {
  it.each([false, true])('round trip (csc %s) keeps every field and the vectors bit for bit', (csc) => {
    const p = prompt(csc);
    const text = serializePromptFile(p);
    const r = parsePromptFile(text, toy);
    if (!r.ok) throw new Error(r.error);
    expect(r.prompt.context.data).toEqual(p.context.data);
    const { per_class_empty: _, ...finite } = p.metrics;
    expect(r.prompt).toEqual({ ...p, metrics: finite });
    const d = JSON.parse(text);
    expect(d).toMatchObject({ format: 'coop-prompt', version: 1, embed_dim: 6, n_ctx: 4, csc, class_token_position: 'middle' });
    expect(d.model).toEqual({ id: 'toy-clip', text_model_sha256: FP });
    expect(d.training).toMatchObject({ n_ctx: 4, weight_decay: 5e-4, warmup_lr: 1e-5, batch_size: 32, seed: 7, epochs: 50 });
    // Shapes as documented: [M, D] unified, [K, M, D] class-specific; one line per vector.
    if (csc) expect([d.context.length, d.context[0].length, d.context[0][0].length]).toEqual([3, 4, 6]);
    else expect([d.context.length, d.context[0].length]).toEqual([4, 6]);
    expect(text.split('\n').length).toBeLessThan(100);
    expect(d.metrics.test_acc).toBe(2 / 3); // not rounded to float32
  });

  it('writes a sensible file name', () => {
    expect(promptFileName(prompt(true))).toBe('coop-toy-clip-3cls-m4-csc-2025-05-01.json');
  });

  it('refuses malformed JSON, saying where', () => {
    const e = refusal('{"format": "coop-prompt", "version": 1,, }');
    expect(e).toMatch(/^This file is not valid JSON: /);
    expect(e).toMatch(/position|column|line/i);
  });

  it('refuses other formats and versions', () => {
    expect(refusal([1, 2])).toMatch(/not a CoOp prompt/);
    expect(refusal({ ...doc(), format: 'something' })).toBe('This file is not a CoOp prompt: "format" is "something", expected "coop-prompt".');
    expect(refusal({ ...doc(), version: 3 })).toBe('This prompt file has version 3; this app reads versions 1 and 2.');
  });

  it('refuses a file learned for another model, or other text weights', () => {
    const other = { ...doc(), model: { id: 'vit-b32', text_model_sha256: 'ab'.repeat(32) } };
    expect(refusal(other)).toBe("This prompt was learned for model 'vit-b32' (fingerprint abababab…), but 'toy-clip' is loaded.");
    const retrained = { ...doc(), model: { id: 'toy-clip', text_model_sha256: 'cd'.repeat(32) } };
    expect(refusal(retrained)).toBe(
      "This prompt was learned for model 'toy-clip' (fingerprint cdcdcdcd…), but the loaded 'toy-clip' has different text weights (fingerprint 1a2b3c4d…).",
    );
    expect(refusal(doc(), { ...toy, width: 512 })).toBe("This prompt's vectors have width 6, but 'toy-clip' uses token width 512.");
    expect(refusal({ ...doc(), model: { id: 'toy-clip', text_model_sha256: 'xyz' } })).toMatch(/64 hexadecimal digits/);
  });

  it('refuses wrong shapes, naming the vector', () => {
    const d = doc();
    d.context.pop();
    expect(refusal(d)).toBe('"context" has 3 context vectors, but n_ctx is 4.');
    const e = doc();
    e.context[2].push(0.1);
    expect(refusal(e)).toBe('Context vector 2 has 7 values, but embed_dim is 6.');
    const c = doc(true);
    c.context.pop();
    expect(refusal(c)).toBe('"context" has 2 class entries, but there are 3 class names.');
    const c2 = doc(true);
    c2.context[1].pop();
    expect(refusal(c2)).toBe("Class 'box' has 3 context vectors, but n_ctx is 4.");
    const c3 = doc(true);
    c3.context[2][1] = 5;
    expect(refusal(c3)).toMatch(/^Context vector 1 of class 'wedge' must be an array of 6 numbers/);
  });

  it('refuses non-finite numbers however they were written', () => {
    const c = doc(true);
    c.context[0][3][5] = null; // JSON.stringify(NaN)
    expect(refusal(c)).toBe("Context vector 3 of class 'disc' has a non-finite value at index 5.");
    const text = serializePromptFile(prompt(false)).replace(/("context": \[\n\s*\[)[^,]+,/, '$11e999,');
    expect(refusal(text)).toBe('Context vector 0 has a non-finite value at index 0.');
    const big = doc();
    big.context[1][4] = 1e39; // finite as a double, infinite as float32
    expect(refusal(big)).toBe('Context vector 1 has a non-finite value at index 4.');
    const s = doc();
    s.context[1][0] = 'NaN';
    expect(refusal(s)).toBe('Context vector 1 has a non-finite value at index 0.');
  });

  it('refuses missing or mistyped fields, naming them', () => {
    const { created: _, ...noCreated } = doc();
    expect(refusal(noCreated)).toBe('The file is missing the field "created".');
    expect(refusal({ ...doc(), created: 'yesterday' })).toBe('"created" must be an ISO 8601 time, got "yesterday".');
    expect(refusal({ ...doc(), n_ctx: 0 })).toBe('"n_ctx" must be an integer ≥ 1, got 0.');
    expect(refusal({ ...doc(), csc: 'no' })).toBe('"csc" must be true or false, got "no".');
    expect(refusal({ ...doc(), class_token_position: 'start' })).toBe('"class_token_position" must be one of "end", "middle", "front", got "start".');
    expect(refusal({ ...doc(), init: { kind: 'words' } })).toBe('Init is missing the field "words".');
    expect(refusal({ ...doc(), class_names: [] })).toMatch(/"class_names" must be a non-empty array/);
    expect(refusal({ ...doc(), class_names: ['disc', 'box', 'disc'] })).toBe("The class name 'disc' appears more than once.");
    expect(refusal({ ...doc(), training: { ...doc().training, lr: -1 } })).toBe('Training "lr" must be a finite number ≥ 0, got -1.');
    expect(refusal({ ...doc(), training: { ...doc().training, epochs: 'forever' } })).toBe('Training "epochs" must be an integer ≥ 1, got "forever".');
    expect(refusal({ ...doc(), metrics: { test_acc: null } })).toBe('Metrics "test_acc" must be a finite number, got null.');
    const n = doc();
    n.nearest_tokens[1][0].distance = -1;
    expect(refusal(n)).toBe('"nearest_tokens"[1][0] "distance" must be a finite number ≥ 0, got -1.');
  });

  it('accepts a file without nearest tokens', () => {
    const r = parsePromptFile(JSON.stringify({ ...doc(), nearest_tokens: null }), toy);
    expect(r.ok && r.prompt.nearestTokens).toBeNull();
  });
});
