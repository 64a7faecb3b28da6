/**
 * The method picker's store logic: a successor's official recipe goes into the training settings (and what it
 * replaced comes back when CoOp is picked again), the CSC message, DePT's base/new split of an imported file's
 * classes, a successor run's prompt-file method record, and deep prompts' nearest words per block.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cscProblem, METHOD_HINTS, pickMethod, recipeSummary } from '../src/app/store/pick-method';
import { useMethodStore } from '../src/app/store/method-store';
import { deptSplitOf, runMethodRecord, useTrainStore } from '../src/app/store/train-store';
import { DEFAULT_METHOD_SETTINGS, METHODS } from '../src/coop/method-settings';
import { withDefaults } from '../src/coop/settings';
import { SUCCESSOR_RECIPES, successorExtras, successorFromFile } from '../src/coop/successors';
import { SUCCESSORS } from '../src/coop/prompt-learner';
import { parsePromptFile, serializePromptFile } from '../src/coop/prompt-file';
import { nearestDeepTokens, nearestTokens } from '../src/coop/nearest-tokens';

afterEach(() => {
  useMethodStore.setState({ method: 'coop', beforeRecipe: null, settings: { ...DEFAULT_METHOD_SETTINGS } });
  useTrainStore.setState({ settings: withDefaults(), position: 'end' });
});

describe('picking a method', () => {
  it('has a one-line hint for every method', () => {
    for (const m of METHODS) expect(METHOD_HINTS[m].length).toBeGreaterThan(10);
  });

  it("writes a successor's official recipe into the training settings, visibly", () => {
    useTrainStore.setState({ settings: withDefaults({ views: 3, seed: 7 }), position: 'front' });
    pickMethod('cocoop');
    const s = useTrainStore.getState().settings;
    expect(s).toMatchObject({ nCtx: 4, init: 'words', initWords: 'a photo of a', batchSize: 1, epochs: 10, lr: 0.002, csc: false, views: 3, seed: 7 });
    expect(s.optimizer).toBeUndefined();
    expect(useTrainStore.getState().position).toBe('end');
    expect(useMethodStore.getState().method).toBe('cocoop');
    expect(recipeSummary('cocoop')).toBe(`CoCoOp's official settings: 4 context words 'a photo of a', batch 1, 10 epochs, lr 0.002, SGD (${SUCCESSOR_RECIPES.cocoop.source})`);
    expect(recipeSummary('tcp')).toMatch(/^TCP's official settings: 4 random context vectors, batch \d+, \d+ epochs, lr 0.002, Adam \(/);
  });

  it('lets the person change the recipe, and puts back what it replaced when CoOp is picked again', () => {
    useTrainStore.setState({ settings: withDefaults({ epochs: 'auto', lr: 0.01, views: 4 }) });
    pickMethod('tcp');
    expect(useTrainStore.getState().settings.optimizer).toBe('adam');
    useTrainStore.getState().setSettings({ epochs: 2, views: 2 });
    pickMethod('deep'); // successor to successor: the saved originals stay the first ones
    expect(useTrainStore.getState().settings).toMatchObject({ epochs: 5, lr: 0.0025, batchSize: 4, views: 2 });
    expect(useTrainStore.getState().settings.optimizer).toBeUndefined();
    pickMethod('coop');
    const s = useTrainStore.getState().settings;
    expect(s).toMatchObject({ epochs: 'auto', lr: 0.01, nCtx: 16, init: 'random', batchSize: 32, views: 2 });
    expect(s.optimizer).toBeUndefined();
    expect(useMethodStore.getState().beforeRecipe).toBeNull();
    // Picking an adapter or CoOp again without a recipe in place changes nothing.
    pickMethod('tip');
    expect(useTrainStore.getState().settings).toEqual(s);
  });

  it('says why class-specific context and a successor do not go together', () => {
    expect(cscProblem('cocoop', true)).toMatch(/^CoCoOp learns one context shared by every class: turn class-specific context \(CSC\) off/);
    expect(cscProblem('cocoop', false)).toBeNull();
    expect(cscProblem('coop', true)).toBeNull();
  });
});

describe('successor runs and files', () => {
  it("gives a successor run its prompt-file method record (TCP's block and template, DePT's base classes)", () => {
    expect(runMethodRecord('coop', DEFAULT_METHOD_SETTINGS, 4, ['a'])).toBeNull();
    expect(runMethodRecord('cocoop', DEFAULT_METHOD_SETTINGS, 4, ['a'])).toEqual({ name: 'cocoop', settings: {} });
    expect(runMethodRecord('tcp', { ...DEFAULT_METHOD_SETTINGS, tcpWeight: 3 }, 12, ['a'])).toEqual({ name: 'tcp', settings: { block: 8, template: 'a photo of a {}.', weight: 3 } });
    expect(runMethodRecord('dept-coop', DEFAULT_METHOD_SETTINGS, 4, ['cat', 'dog'])?.settings).toMatchObject({ base_classes: ['cat', 'dog'], lp_weight: 0.7 });
  });

  it("an app-trained successor run's record exports as a version-2 file and reads back with the same method", () => {
    const D = 8;
    const classes = ['cat', 'dog'];
    for (const m of SUCCESSORS) {
      const method = runMethodRecord(m, DEFAULT_METHOD_SETTINGS, 4, classes)!;
      const context = { data: new Float32Array(4 * D).fill(0.25), nCtx: 4, dim: D, cscClasses: 0, extras: successorExtras(m, { E: 32, D, L: 4, K: 2 }, 4, 1) };
      const text = serializePromptFile({ model: { id: 'toy', fingerprint: 'ab'.repeat(32) }, context, method, position: 'end', init: { kind: 'random' }, classNames: classes, training: withDefaults(), metrics: {}, nearestTokens: null, created: '2026-12-02T00:00:00.000Z' });
      const back = parsePromptFile(text, { id: 'toy', fingerprint: 'ab'.repeat(32), width: D });
      if (!back.ok) throw new Error(`${m}: ${back.error}`);
      expect(back.prompt.method).toEqual(method);
      expect(successorFromFile(back.prompt.method!).method).toBe(m);
      expect(back.prompt.context.extras?.map((x) => x.name)).toEqual(context.extras.map((x) => x.name));
    }
  });

  it("a restored or shown successor run picks its method with the run's settings", () => {
    const run = (id: string, method?: ReturnType<typeof runMethodRecord>) =>
      ({ id, name: id, created: '', model: { folder: 'toy', id: 'toy', fingerprint: '' }, settings: withDefaults(), position: 'end', dataKey: '', status: 'done', error: null, loss: [], epochs: [], progress: null, view: null, checkpoint: null, ...(method ? { method } : {}) }) as never;
    const tcp = runMethodRecord('tcp', { ...DEFAULT_METHOD_SETTINGS, tcpWeight: 2 }, 4, ['a'])!;
    useTrainStore.getState().restore({ cards: [], extraSets: [], holdOut: 0.25, settings: withDefaults(), position: 'end', runs: [run('r1', tcp), run('r2')], activeRunId: 'r1', overlay: [] });
    expect(useMethodStore.getState()).toMatchObject({ method: 'tcp', settings: { tcpWeight: 2 } });
    useMethodStore.setState({ method: 'kgcoop' });
    useTrainStore.getState().showRun('r2');
    expect(useMethodStore.getState().method).toBe('kgcoop');
    useTrainStore.getState().showRun('r1');
    expect(useMethodStore.getState().method).toBe('tcp');
  });

  it("splits an imported DePT file's classes into its head's base classes and new ones", () => {
    expect(deptSplitOf(['cat', 'dog'], ['cat', 'dog'])).toEqual({ isNew: [false, false] });
    expect(deptSplitOf(['cat', 'fox', 'dog'], ['cat', 'dog'])).toEqual({ isNew: [false, true, false] });
    expect(deptSplitOf(['dog', 'cat'], ['cat', 'dog'])).toHaveProperty('problem');
    expect(deptSplitOf(['cat'], ['cat', 'dog'])).toHaveProperty('problem');
  });
});

describe('nearest words of deep prompts', () => {
  it("reads each block's tokens as the input context's, per block in order", () => {
    const dim = 2;
    const table = Float32Array.from([0, 0, 1, 0, 0, 1, 5, 5]);
    const ctx = {
      data: Float32Array.from([0.9, 0.1]),
      nCtx: 1,
      dim,
      cscClasses: 0,
      extras: [
        { name: 'deep_ctx.2', shape: [2, dim], data: Float32Array.from([4, 4, 0, 0.2]) },
        { name: 'deep_ctx.1', shape: [1, dim], data: Float32Array.from([0.1, 0.8]) },
        { name: 'meta_net.linear1.weight', shape: [1, dim], data: Float32Array.from([1, 1]) },
      ],
    };
    const tok = (id: number) => `t${id}`;
    expect(nearestTokens(ctx, table, tok, 1)[0][0][0].token).toBe('t1');
    const blocks = nearestDeepTokens(ctx, table, tok, 2);
    expect(blocks.map((b) => b.block)).toEqual([1, 2]);
    expect(blocks[0].lists.map((l) => l.map((n) => n.token))).toEqual([['t2', 't0']]);
    expect(blocks[1].lists.map((l) => l[0].token)).toEqual(['t3', 't0']);
    expect(blocks[1].lists[1][0].distance).toBeCloseTo(0.2, 6);
    expect(nearestDeepTokens({ ...ctx, extras: undefined }, table, tok)).toEqual([]);
  });
});
