/**
 * Version 2 of the prompt file: a successor's method, its settings and its extra tensors beside the context.
 * Version 1 (CoOp, KgCoOp, ProGrad) is written exactly as before and both versions read.
 */
import { describe, expect, it } from 'vitest';
import { randomContext, type ContextVectors, type NamedParam } from '../../src/coop/context-init';
import { parsePromptFile, promptFileName, serializePromptFile, type LearnedPrompt, type PromptFileMethod, type PromptModel } from '../../src/coop/prompt-file';
import { withDefaults } from '../../src/coop/settings';

const FP = '1a2b3c4d'.repeat(8);
const toy: PromptModel = { id: 'toy-clip', fingerprint: FP, width: 6 };
const names = ['disc', 'box', 'wedge'];

const seq = (n: number, f = 1) => Float32Array.from({ length: n }, (_, i) => Math.fround(f * Math.sin(i + 1) / 3));
const extras = (): NamedParam[] => [
  { name: 'meta_net.linear1.weight', shape: [2, 6], data: seq(12) },
  { name: 'meta_net.linear1.bias', shape: [2], data: seq(2, 1e-7) },
  { name: 'deep.tokens', shape: [3, 2, 6], data: seq(36, 1e3) },
  { name: 'head.weight', shape: [3, 6], data: seq(18), lrScale: 6.5 },
];

const METHODS: PromptFileMethod[] = [
  { name: 'cocoop', settings: {} },
  { name: 'deep', settings: { depth: 3 } },
  { name: 'tcp', settings: { block: 2, template: 'a photo of a {}.', weight: 1 } },
  { name: 'dept-coop', settings: { base_classes: ['disc', 'box'], fusion: 0.7 } },
  { name: 'dept-kgcoop', settings: { base_classes: ['disc'], kg_weight: 8, use_head: true } },
];

function prompt(method?: PromptFileMethod, csc = false): LearnedPrompt {
  const context: ContextVectors = { ...randomContext({ nCtx: 2, dim: 6, csc, nClasses: 3, seed: 7 }), ...(method ? { extras: extras() } : {}) };
  return {
    model: { id: 'toy-clip', fingerprint: FP },
    context,
    ...(method ? { method } : {}),
    position: 'end',
    init: { kind: 'random' },
    classNames: names,
    training: withDefaults({ nCtx: 2, csc, seed: 7, epochs: 5, ...(method?.name === 'tcp' ? { optimizer: 'adam' as const } : {}) }),
    metrics: { train_acc: 0.5 },
    nearestTokens: null,
    created: '2026-12-02T09:00:00.000Z',
  };
}

const parse = (text: string, model = toy) => {
  const r = parsePromptFile(text, model);
  if (!r.ok) throw new Error(r.error);
  return r.prompt;
};
const refusal = (d: unknown) => {
  const r = parsePromptFile(typeof d === 'string' ? d : JSON.stringify(d), toy);
  return r.ok ? 'accepted' : r.error;
};
const v2 = () => JSON.parse(serializePromptFile(prompt(METHODS[2])));

describe('prompt file version 2 (a successor with extras)', () => {
  it.each(METHODS.map((m) => [m.name, m] as const))('%s: round trip keeps the method, its settings and every extra bit for bit', (_, method) => {
    const p = prompt(method);
    const text = serializePromptFile(p);
    const d = JSON.parse(text);
    expect(d.version).toBe(2);
    expect(d.method).toEqual({ name: method.name, settings: method.settings });
    expect(d.extras.map((e: { name: string; shape: number[] }) => [e.name, e.shape])).toEqual(extras().map((e) => [e.name, e.shape]));
    // Nested in the PyTorch shape: [3, 2, 6] is 3 × 2 rows of 6.
    expect(d.extras[2].values.length).toBe(3);
    expect(d.extras[2].values[0][1].length).toBe(6);
    expect(d.extras[1].values.length).toBe(2);
    expect(d.extras[3].lr_scale).toBe(6.5);
    expect(d.extras[0]).not.toHaveProperty('lr_scale');
    const back = parse(text);
    expect(back).toEqual(p);
    back.context.extras!.forEach((e, j) => expect(e.data).toEqual(extras()[j].data));
    // Written again, the same text: nothing is lost or reordered.
    expect(serializePromptFile(back)).toBe(text);
  });

  it('keeps class-specific context with extras', () => {
    const p = prompt(METHODS[0], true);
    expect(parse(serializePromptFile(p))).toEqual(p);
  });

  it("writes the training's optimizer only when it is Adam, and reads it back; SGD files have none", () => {
    const tcp = v2();
    expect(tcp.training.optimizer).toBe('adam');
    expect(parse(JSON.stringify(tcp)).training.optimizer).toBe('adam');
    const sgd = JSON.parse(serializePromptFile(prompt(METHODS[0])));
    expect(sgd.training).not.toHaveProperty('optimizer');
    expect(parse(JSON.stringify(sgd)).training).not.toHaveProperty('optimizer');
    expect(refusal({ ...tcp, training: { ...tcp.training, optimizer: 'lbfgs' } })).toMatch(/^Training "optimizer" must be one of "sgd", "adam", got "lbfgs"/);
  });

  it('names files after the method', () => {
    expect(promptFileName(prompt(METHODS[2]))).toBe('tcp-toy-clip-3cls-m2-unified-2026-12-02.json');
    expect(promptFileName(prompt())).toBe('coop-toy-clip-3cls-m2-unified-2026-12-02.json');
  });

  it('a CoOp prompt stays version 1 with no method, extras or optimizer fields', () => {
    const d = JSON.parse(serializePromptFile(prompt()));
    expect(d.version).toBe(1);
    expect(Object.keys(d)).toEqual(['format', 'version', 'model', 'embed_dim', 'n_ctx', 'csc', 'class_token_position', 'init', 'class_names', 'context', 'training', 'metrics', 'nearest_tokens', 'created']);
    expect(d.training).not.toHaveProperty('optimizer');
    expect(parse(JSON.stringify(d)).context).not.toHaveProperty('extras');
    // A version-1 file that happens to carry such fields is read as version 1 defines it: the context alone.
    const extra = parse(JSON.stringify({ ...d, method: { name: 'tcp' }, extras: 'anything' }));
    expect(extra.context).not.toHaveProperty('extras');
    expect(extra).not.toHaveProperty('method');
  });

  it('refuses to export extras without a method, a method without extras, or a method without its settings', () => {
    const noMethod = prompt(METHODS[0]);
    delete noMethod.method;
    expect(() => serializePromptFile(noMethod)).toThrow(/needs the method/);
    expect(() => serializePromptFile({ ...prompt(), method: METHODS[0] })).toThrow(/no extra tensors/);
    expect(() => serializePromptFile(prompt({ name: 'tcp', settings: { template: 'a {}' } }))).toThrow(/"block"/);
    const nan = prompt(METHODS[0]);
    nan.context.extras![1].data[0] = NaN;
    expect(() => serializePromptFile(nan)).toThrow(/meta_net\.linear1\.bias value 0 is not finite/);
  });

  it('refuses a broken method, naming the field', () => {
    const d = v2();
    const { method: _, ...noMethod } = d;
    expect(refusal(noMethod)).toBe('The file is missing the field "method".');
    expect(refusal({ ...d, method: { name: 'maple', settings: {} } })).toMatch(/^Method "name" must be one of "cocoop", "deep", "tcp", "dept-coop", "dept-kgcoop", got "maple"/);
    expect(refusal({ ...d, method: { name: 'tcp' } })).toBe('Method is missing the field "settings".');
    expect(refusal({ ...d, method: { name: 'tcp', settings: { template: 'a photo of a {}.' } } })).toMatch(/^The tcp method needs the setting "block" \(an integer ≥ 0/);
    expect(refusal({ ...d, method: { name: 'tcp', settings: { block: 2, template: 'no slot' } } })).toMatch(/"template"/);
    expect(refusal({ ...d, method: { name: 'dept-coop', settings: { base_classes: ['a', 'a'] } } })).toMatch(/"base_classes" \(the distinct names/);
    expect(refusal({ ...d, method: { name: 'cocoop', settings: { x: { nested: 1 } } } })).toMatch(/^Method setting "x" must be a finite number/);
    expect(refusal({ ...d, method: { name: 'cocoop', settings: { x: [1, 2] } } })).toMatch(/^Method setting "x"/);
  });

  it('refuses broken extras, naming the tensor and the place', () => {
    const d = v2();
    const withExtra = (patch: object, j = 0) => ({ ...d, extras: d.extras.map((e: object, i: number) => (i === j ? { ...e, ...patch } : e)) });
    const { extras: _, ...noExtras } = d;
    expect(refusal(noExtras)).toBe('The file is missing the field "extras".');
    expect(refusal({ ...d, extras: [] })).toMatch(/^"extras" must be a non-empty array of tensors/);
    expect(refusal(withExtra({ shape: [2, 5] }))).toBe("Extra tensor 'meta_net.linear1.weight' values[0] has 6 entries, but the shape says 5.");
    expect(refusal(withExtra({ shape: [3, 2, 6] }, 0))).toBe("Extra tensor 'meta_net.linear1.weight' values has 2 entries, but the shape says 3.");
    expect(refusal(withExtra({ shape: [] }))).toMatch(/"shape" must be a non-empty array of sizes/);
    expect(refusal(withExtra({ shape: [2, 0] }))).toMatch(/"shape" must hold integers ≥ 1/);
    expect(refusal(withExtra({ name: 'deep.tokens' }))).toBe("The extra tensor 'deep.tokens' appears more than once.");
    expect(refusal(withExtra({ name: '' }))).toMatch(/^Extra tensor 0 "name" must be a name/);
    expect(refusal(withExtra({ lr_scale: 0 }))).toMatch(/"lr_scale" must be a positive number/);
    expect(refusal(withExtra({ lr_scale: -1 }))).toMatch(/"lr_scale" must be a finite number ≥ 0/);
    const bad = v2();
    bad.extras[2].values[1][0][3] = null;
    expect(refusal(bad)).toBe("Extra tensor 'deep.tokens' has a non-finite value at flat index 15.");
    bad.extras[2].values[1][0][3] = 1e39;
    expect(refusal(bad)).toBe("Extra tensor 'deep.tokens' has a non-finite value at flat index 15.");
    bad.extras[2].values[1][0] = 'row';
    expect(refusal(bad)).toBe('Extra tensor \'deep.tokens\' values[1][0] must be an array of 6, got "row".');
    expect(refusal({ ...d, extras: [1] })).toMatch(/^Extra tensor 0 must be an object with "name", "shape" and "values"/);
  });
});
