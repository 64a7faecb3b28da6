import { describe, expect, it } from 'vitest';
import { compactViews, errorMessage, transferablesOf, type WorkerReply } from '../src/worker/protocol';
import { predictClasses, TrainSession } from '../src/worker/train-session';
import { CpuTextEngine } from '../src/worker/cpu-text-engine';
import { withDefaults } from '../src/coop/settings';
import { DEFAULT_METHOD_SETTINGS } from '../src/coop/method-settings';
import { toyClipWeights, toyClipManifest } from './engine/dumps';

describe('worker protocol encoding', () => {
  it('lists each buffer once, however many views share it', () => {
    const buf = new ArrayBuffer(64);
    const a = new Float32Array(buf, 0, 4);
    const b = new Int32Array(buf, 16, 4);
    const c = new Float32Array(3);
    const msg = { type: 'snapshot', snapshot: { a, nested: [b, { c }], again: a } };
    const list = transferablesOf(msg);
    expect(list).toHaveLength(2);
    expect(list).toContain(buf);
    expect(list).toContain(c.buffer);
  });

  it('copies views into larger buffers so a transfer ships only their bytes', () => {
    const big = new Float32Array(100);
    const view = big.subarray(10, 14);
    view.set([1, 2, 3, 4]);
    const whole = new Float32Array([5, 6]);
    const out = compactViews({ view, whole, n: 3, s: 'x', list: [view] });
    expect(out.view.buffer.byteLength).toBe(16);
    expect(Array.from(out.view)).toEqual([1, 2, 3, 4]);
    expect(out.whole).toBe(whole);
    expect(out.list[0].buffer.byteLength).toBe(16);
    expect(out.n).toBe(3);
  });

  it('survives a real structured clone with transfer', () => {
    const msg = compactViews({ type: 'nearest', ids: new Int32Array([1, 2]), distances: new Float32Array([0.5, 1]) });
    const { port1, port2 } = new MessageChannel();
    return new Promise<void>((resolve) => {
      port2.onmessage = (e) => {
        expect(Array.from(e.data.ids)).toEqual([1, 2]);
        expect(msg.ids.byteLength).toBe(0); // transferred, not copied
        port1.close();
        port2.close();
        resolve();
      };
      port1.postMessage(msg, transferablesOf(msg));
    });
  });

  it('turns anything thrown into a message', () => {
    expect(errorMessage(new Error('boom'))).toBe('boom');
    expect(errorMessage('plain')).toBe('plain');
    expect(errorMessage({ code: 3 })).toBe('{"code":3}');
  });
});

describe('training session (CPU engine, toy-clip weights)', () => {
  it('predicts by cosine', () => {
    const text = new Float32Array([1, 0, 0, 1]);
    expect(Array.from(predictClasses(new Float32Array([0.9, 0.1, 0.2, 0.8]), text, 2))).toEqual([0, 1]);
  });

  function tinyTask() {
    const weights = toyClipWeights();
    const E = weights.config.E;
    const K = 3;
    const T = 77;
    // "X X name." with M = 2, names of one token: [SOS, X, X, name, '.', EOS]
    const ids = new Int32Array(K * T);
    const names = [10, 20, 30];
    for (let k = 0; k < K; k++) ids.set([weights.config.V - 2, 1, 1, names[k], 13, weights.config.V - 1], k * T);
    // Image features: class k's images lie near a fixed random direction.
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5;
    const dirs = Array.from({ length: K }, () => Float32Array.from({ length: E }, rnd));
    const N = 12;
    const V = 2;
    const labels = Int32Array.from({ length: N }, (_, i) => i % K);
    const unit = (v: Float32Array) => {
      const n = Math.hypot(...v);
      return v.map((x) => x / n);
    };
    const views = new Float32Array(N * V * E);
    for (let i = 0; i < N; i++) for (let v = 0; v < V; v++) views.set(unit(dirs[labels[i]].map((x) => x + 0.1 * rnd())), (i * V + v) * E);
    const clean = new Float32Array(N * E);
    for (let i = 0; i < N; i++) clean.set(views.subarray(i * V * E, i * V * E + E), i * E);
    const setup = (epochs: number) => ({
      type: 'setup' as const,
      settings: withDefaults({ nCtx: 2, epochs, batchSize: 4, lr: 0.05, warmupEpochs: 0, views: V }),
      position: 'end' as const,
      prompts: { ids, contextLength: T, nameLens: [1, 1, 1] },
      initWordIds: null,
      context: null,
      viewFeatures: views,
      nViews: V,
      labels,
      nClasses: K,
      trainFeatures: clean,
      evalSets: [{ name: 'test', features: clean, labels }],
    });
    return { weights, setup };
  }

  it('sets up, trains, stops, resumes and keeps the context in snapshots', async () => {
    const { weights, setup: makeSetup } = tinyTask();
    const replies: WorkerReply[] = [];
    const session = new TrainSession(
      (r) => replies.push(r),
      async () => new CpuTextEngine({ weights, logitScale: toyClipManifest().logit_scale }),
    );
    await session.handle({ type: 'init', textModelUrl: '', config: {}, logitScale: 1, preferGpu: false });
    expect(replies[0]).toMatchObject({ type: 'ready', engine: 'cpu' });
    await session.handle(makeSetup(4));
    const setup = replies.find((r) => r.type === 'setup-done');
    expect(setup).toMatchObject({ nCtx: 2, csc: false, maxEpochs: 4, stepsPerEpoch: 3 });
    const first = replies.find((r) => r.type === 'snapshot');
    expect(first?.type === 'snapshot' && first.snapshot.epoch).toBe(0);

    // Stop arrives while the loop runs; it must take effect between steps.
    const run = session.handle({ type: 'train' });
    await new Promise((r) => setTimeout(r, 0));
    await session.handle({ type: 'stop' });
    await run;
    const stopped = replies.filter((r) => r.type === 'event' && r.event.type === 'stopped');
    expect(stopped).toHaveLength(1);
    const stepsBefore = replies.filter((r) => r.type === 'event' && r.event.type === 'step').length;
    expect(stepsBefore).toBeGreaterThan(0);
    expect(stepsBefore).toBeLessThan(12);

    await session.handle({ type: 'train' });
    const steps = replies.flatMap((r) => (r.type === 'event' && r.event.type === 'step' ? [r.event] : []));
    expect(steps).toHaveLength(12);
    expect(steps.map((s) => s.step)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(replies.some((r) => r.type === 'event' && r.event.type === 'done')).toBe(true);
    const epochs = replies.flatMap((r) => (r.type === 'event' && r.event.type === 'epoch' ? [r.event] : []));
    expect(epochs).toHaveLength(4);
    const last = session.snapshot!;
    expect(last.epoch).toBe(4);
    expect(last.context.data).toHaveLength(2 * weights.config.D);
    expect(last.accuracies.train).toBeGreaterThanOrEqual(epochs[0].trainAcc);
    expect(steps[11].loss).toBeLessThan(steps[0].loss);

    await session.handle({ type: 'nearest', k: 3 });
    const near = replies.find((r) => r.type === 'nearest');
    expect(near).toMatchObject({ sets: 1, nCtx: 2, k: 3 });

    await session.handle({ type: 'reset' });
    expect(session.snapshot!.epoch).toBe(0);
  }, 60_000);

  it('a checkpoint from an epoch snapshot, set up in a new session (a reload) with resume, ends with the uninterrupted context', async () => {
    const { weights, setup } = tinyTask();
    const engine = async () => new CpuTextEngine({ weights, logitScale: toyClipManifest().logit_scale });
    const whole = new TrainSession(() => {}, engine);
    await whole.handle({ type: 'init', textModelUrl: '', config: {}, logitScale: 1, preferGpu: false });
    await whole.handle(setup(4));
    await whole.handle({ type: 'train' });
    const uninterrupted = whole.snapshot!;
    expect(uninterrupted.epoch).toBe(4);

    // The first page: the run is cut off after epoch 2 (the page reloads); its epoch snapshot's checkpoint is what
    // the page saved. The stop makes the cut deterministic; the checkpoint is the one of the epoch snapshot.
    const snapshots: WorkerReply[] = [];
    const first = new TrainSession((r) => snapshots.push(r), engine);
    await first.handle({ type: 'init', textModelUrl: '', config: {}, logitScale: 1, preferGpu: false });
    await first.handle(setup(4));
    const run = first.handle({ type: 'train' });
    while (!snapshots.some((r) => r.type === 'snapshot' && r.snapshot.epoch === 2)) await new Promise((r) => setTimeout(r, 0));
    await first.handle({ type: 'stop' });
    await run;
    const saved = snapshots.find((r) => r.type === 'snapshot' && r.snapshot.epoch === 2);
    const checkpoint = structuredClone(saved?.type === 'snapshot' ? saved.snapshot.checkpoint : null);
    expect(checkpoint).toMatchObject({ epoch: 2, batch: 0, step: 6 });

    const replies: WorkerReply[] = [];
    const second = new TrainSession((r) => replies.push(r), engine);
    await second.handle({ type: 'init', textModelUrl: '', config: {}, logitScale: 1, preferGpu: false });
    await second.handle({ ...setup(4), resume: checkpoint });
    await second.handle({ type: 'train' });
    const steps = replies.flatMap((r) => (r.type === 'event' && r.event.type === 'step' ? [r.event.step] : []));
    expect(steps).toEqual([7, 8, 9, 10, 11, 12]);
    expect(second.snapshot!.epoch).toBe(4);
    expect(second.snapshot!.context.data).toEqual(uninterrupted.context.data);
    expect(Array.from(second.snapshot!.predictions.test)).toEqual(Array.from(uninterrupted.predictions.test));
  }, 60_000);

  it('an imported context is only evaluated: same predictions as where it came from, and no training', async () => {
    const { weights, setup } = tinyTask();
    const make = () => new TrainSession(() => {}, async () => new CpuTextEngine({ weights, logitScale: toyClipManifest().logit_scale }));
    const source = make();
    await source.handle({ type: 'init', textModelUrl: '', config: {}, logitScale: 1, preferGpu: false });
    await source.handle(setup(1));
    await source.handle({ type: 'train' });
    const learned = source.snapshot!;
    const replies: WorkerReply[] = [];
    const target = new TrainSession((r) => replies.push(r), async () => new CpuTextEngine({ weights, logitScale: toyClipManifest().logit_scale }));
    await target.handle({ type: 'init', textModelUrl: '', config: {}, logitScale: 1, preferGpu: false });
    await target.handle({ ...setup(1), context: learned.context, evalOnly: true, viewFeatures: new Float32Array(0) });
    expect(replies.find((r) => r.type === 'setup-done')).toMatchObject({ maxEpochs: 0 });
    expect(Array.from(target.snapshot!.predictions.test)).toEqual(Array.from(learned.predictions.test));
    expect(target.snapshot!.textFeatures).toEqual(learned.textFeatures);
    await target.handle({ type: 'train' });
    expect(replies.at(-1)).toMatchObject({ type: 'error', during: 'train' });
  }, 60_000);

  it('after a lost GPU device, Train builds a new engine and resumes where it stopped', async () => {
    const { weights, setup } = tinyTask();
    const replies: WorkerReply[] = [];
    let created = 0;
    const session = new TrainSession(
      (r) => replies.push(r),
      async (_req, onLost) => {
        created++;
        const engine = new CpuTextEngine({ weights, logitScale: toyClipManifest().logit_scale });
        if (created === 1) {
          let steps = 0;
          const step = engine.step.bind(engine);
          engine.step = async (...args) => {
            if (++steps === 3) {
              onLost('device lost (test)');
              throw new Error('GPU buffer mapping failed');
            }
            return step(...args);
          };
        }
        return engine;
      },
    );
    await session.handle({ type: 'init', textModelUrl: '', config: {}, logitScale: 1, preferGpu: true });
    await session.handle(setup(2));
    await session.handle({ type: 'train' });
    expect(replies.some((r) => r.type === 'error' && r.deviceLost)).toBe(true);
    const before = replies.filter((r) => r.type === 'event' && r.event.type === 'step').length;
    expect(before).toBe(2);
    expect(session.snapshot!.context.data.every(Number.isFinite)).toBe(true);
    await session.handle({ type: 'train' });
    expect(created).toBe(2);
    const steps = replies.flatMap((r) => (r.type === 'event' && r.event.type === 'step' ? [r.event.step] : []));
    expect(steps).toEqual([1, 2, 3, 4, 5, 6]);
    expect(replies.some((r) => r.type === 'event' && r.event.type === 'done')).toBe(true);
  }, 60_000);
});

describe('training session: KgCoOp, ProGrad and Tip-Adapter in the worker', () => {
  it('KgCoOp and ProGrad train through the same loop (loss parts in the step events); Tip-Adapter(-F) score every split', async () => {
    const weights = toyClipWeights();
    const E = weights.config.E;
    const K = 2;
    const T = 77;
    const ids = new Int32Array(K * T);
    for (let k = 0; k < K; k++) ids.set([weights.config.V - 2, 1, 1, 10 + k, 13, weights.config.V - 1], k * T);
    const unit = (v: number[]) => {
      const n = Math.hypot(...v);
      return v.map((x) => x / n);
    };
    const N = 4;
    const labels = Int32Array.from({ length: N }, (_, i) => i % K);
    const views = Float32Array.from(Array.from({ length: N * 2 }, (_, j) => unit(Array.from({ length: E }, (_, e) => Math.sin(e * (1 + labels[j >> 1]) + j)))).flat());
    const clean = Float32Array.from(Array.from({ length: N }, (_, i) => Array.from(views.subarray(i * 2 * E, i * 2 * E + E))).flat());
    const hand = Float32Array.from(Array.from({ length: K }, (_, k) => unit(Array.from({ length: E }, (_, e) => Math.cos(e * (k + 2))))).flat());
    const setup = (name: 'kgcoop' | 'prograd') => ({
      type: 'setup' as const,
      settings: withDefaults({ nCtx: 2, epochs: 1, batchSize: 2, lr: 0.05, warmupEpochs: 0, views: 2 }),
      position: 'end' as const,
      prompts: { ids, contextLength: T, nameLens: [1, 1] },
      initWordIds: null,
      context: null,
      viewFeatures: views,
      nViews: 2,
      labels,
      nClasses: K,
      trainFeatures: clean,
      evalSets: [{ name: 'test', features: clean, labels }],
      method: { name, settings: { ...DEFAULT_METHOD_SETTINGS, kgWeight: 8, progradT: 1, progradLambda: 1 }, handWritten: hand },
    });
    for (const name of ['kgcoop', 'prograd'] as const) {
      const replies: WorkerReply[] = [];
      const session = new TrainSession((r) => replies.push(r), async () => new CpuTextEngine({ weights, logitScale: toyClipManifest().logit_scale }));
      await session.handle({ type: 'init', textModelUrl: '', config: {}, logitScale: 20, preferGpu: false });
      await session.handle(setup(name));
      await session.handle({ type: 'train' });
      const steps = replies.flatMap((r) => (r.type === 'event' && r.event.type === 'step' ? [r.event] : []));
      expect(steps).toHaveLength(2);
      expect(Object.keys(steps[0].terms ?? {})).toEqual(name === 'kgcoop' ? ['ce', 'kg'] : ['ce', 'kl', 'cos', 'projected']);
      if (name === 'kgcoop') expect(steps[0].loss).toBeCloseTo(steps[0].terms!.ce + steps[0].terms!.kg, 5);
      expect(replies.some((r) => r.type === 'event' && r.event.type === 'done')).toBe(true);
      if (name === 'prograd') {
        await session.handle({ type: 'adapter', method: 'tip-f', zeroShotText: hand });
        const res = replies.find((r) => r.type === 'adapter');
        expect(res?.type === 'adapter' && res.result.epochs).toHaveLength(20);
        expect(res?.type === 'adapter' && Object.keys(res.result.accuracies).sort()).toEqual(['test', 'train']);
        expect(res?.type === 'adapter' && res.result).toMatchObject({ alpha: 1.17, beta: 1, searched: false });
      }
    }
  }, 120_000);
});

describe('training session: base-to-new', () => {
  it('trains on the base classes only and scores each split per part; new classes with the same unified context and their own names', async () => {
    const weights = toyClipWeights();
    const E = weights.config.E;
    const T = 77;
    const nameIds = [10, 20, 30, 40];
    const promptIds = (names: number[]) => {
      const ids = new Int32Array(names.length * T);
      names.forEach((n, k) => ids.set([weights.config.V - 2, 1, 1, n, 13, weights.config.V - 1], k * T));
      return { ids, contextLength: T, nameLens: names.map(() => 1) };
    };
    const unit = (v: number[]) => {
      const n = Math.hypot(...v);
      return v.map((x) => x / n);
    };
    // Classes 0 and 2 are base, 1 and 3 new (marks in any order, as on the cards).
    const split = { base: [0, 2], new: [1, 3] };
    const N = 4;
    const trainLabels = Int32Array.from({ length: N }, (_, i) => i % 2); // base positions
    const views = Float32Array.from(Array.from({ length: N * 2 }, (_, j) => unit(Array.from({ length: E }, (_, e) => Math.sin(e * (1 + trainLabels[j >> 1]) + j)))).flat());
    const clean = Float32Array.from(Array.from({ length: N }, (_, i) => Array.from(views.subarray(i * 2 * E, i * 2 * E + E))).flat());
    const testLabels = Int32Array.from({ length: 8 }, (_, i) => i % 4);
    const test = Float32Array.from(Array.from({ length: 8 }, (_, i) => unit(Array.from({ length: E }, (_, e) => Math.cos(e * (1 + testLabels[i]) + i)))).flat());
    const replies: WorkerReply[] = [];
    const engine = new CpuTextEngine({ weights, logitScale: toyClipManifest().logit_scale });
    const session = new TrainSession((r) => replies.push(r), async () => engine);
    await session.handle({ type: 'init', textModelUrl: '', config: {}, logitScale: 20, preferGpu: false });
    await session.handle({
      type: 'setup',
      settings: withDefaults({ nCtx: 2, epochs: 1, batchSize: 2, lr: 0.05, warmupEpochs: 0, views: 2 }),
      position: 'end',
      prompts: promptIds(split.base.map((c) => nameIds[c])),
      initWordIds: null,
      context: null,
      viewFeatures: views,
      nViews: 2,
      labels: trainLabels,
      nClasses: 2,
      trainFeatures: clean,
      evalSets: [{ name: 'test', features: test, labels: testLabels }],
      baseToNew: { split, newPrompts: promptIds(split.new.map((c) => nameIds[c])) },
    });
    await session.handle({ type: 'train' });
    expect(replies.some((r) => r.type === 'error')).toBe(false);
    const snap = session.snapshot!;
    expect(Object.keys(snap.accuracies).sort()).toEqual(['test/base', 'test/new', 'train']);
    const epoch = replies.flatMap((r) => (r.type === 'event' && r.event.type === 'epoch' ? [r.event] : []))[0];
    expect(Object.keys(epoch.metrics).filter((k) => epoch.metrics[k as 'trainAcc'] !== undefined).sort()).toEqual(['test/base', 'test/new', 'trainAcc']);
    // Independently: the learned context's text features for the new names, scored among the new classes.
    engine.setPrompts({ tokenIds: Array.from({ length: 2 }, (_, k) => promptIds(split.new.map((c) => nameIds[c])).ids.subarray(k * T, (k + 1) * T)), nameLens: [1, 1], nCtx: 2, csc: false, position: 'end' });
    const newText = await engine.textFeatures(snap.context.data);
    const rows = [1, 3, 5, 7]; // the new classes' test images
    const f = Float32Array.from(rows.flatMap((i) => Array.from(test.subarray(i * E, (i + 1) * E))));
    const pred = predictClasses(f, newText, E);
    expect(Array.from(snap.predictions['test/new'])).toEqual(Array.from(pred));
    expect(snap.accuracies['test/new']).toBe(rows.filter((i, r) => pred[r] === (testLabels[i] === 1 ? 0 : 1)).length / 4);
    expect(snap.predictions['test/base']).toHaveLength(4);
    // Tip-Adapter knows the base classes only: base parts scored, the page adds the zero-shot fallback on new ones.
    const hand = Float32Array.from(Array.from({ length: 2 }, (_, k) => unit(Array.from({ length: E }, (_, e) => Math.cos(e * (k + 2))))).flat());
    await session.handle({ type: 'adapter', method: 'tip', zeroShotText: hand });
    const res = replies.find((r) => r.type === 'adapter');
    expect(res?.type === 'adapter' && Object.keys(res.result.accuracies).sort()).toEqual(['test/base', 'train']);
  }, 120_000);

  it('refuses class-specific context with new classes', async () => {
    const weights = toyClipWeights();
    const replies: WorkerReply[] = [];
    const session = new TrainSession((r) => replies.push(r), async () => new CpuTextEngine({ weights, logitScale: 20 }));
    await session.handle({ type: 'init', textModelUrl: '', config: {}, logitScale: 20, preferGpu: false });
    const E = weights.config.E;
    const T = 77;
    const ids = new Int32Array(T);
    ids.set([weights.config.V - 2, 1, 1, 10, 13, weights.config.V - 1]);
    await session.handle({
      type: 'setup',
      settings: withDefaults({ nCtx: 2, epochs: 1, csc: true }),
      position: 'end',
      prompts: { ids, contextLength: T, nameLens: [1] },
      initWordIds: null,
      context: null,
      viewFeatures: new Float32Array(E),
      nViews: 1,
      labels: new Int32Array(1),
      nClasses: 1,
      trainFeatures: new Float32Array(E),
      evalSets: [],
      baseToNew: { split: { base: [0], new: [1] }, newPrompts: { ids, contextLength: T, nameLens: [1] } },
    });
    expect(replies.find((r) => r.type === 'error')).toMatchObject({ during: 'setup', message: expect.stringMatching(/class-specific context has no context for new classes/) });
  });
});
