/**
 * The trainer with a successor's extra tensors (context-init.ts NamedParam): every tensor trained by the same
 * optimizer, SGD or Adam, each extra at its lrScale; gradients checked; rollback, checkpoint and restore cover them.
 */
import { describe, expect, it } from 'vitest';
import { adamStep, createAdamState } from '../../src/coop/adam';
import { cloneContext, type ContextVectors } from '../../src/coop/context-init';
import { epochPlan, gatherBatch } from '../../src/coop/sampler';
import { lrAtEpoch } from '../../src/coop/schedule';
import { withDefaults, type TrainSettings } from '../../src/coop/settings';
import { createSgdState, sgdStep } from '../../src/coop/sgd';
import { CoopTrainer, type LossAndGradFn, type TrainEvent, type TrainerCheckpoint } from '../../src/coop/trainer';

const N = 10, V = 2, E = 3, K = 2, EPOCHS = 4;
const sgd = withDefaults({ nCtx: 2, batchSize: 4, epochs: EPOCHS, lr: 0.3, warmupLr: 0.01, seed: 3 });
const adam = withDefaults({ ...sgd, optimizer: 'adam', lr: 0.05 });
const viewFeatures = Float32Array.from({ length: N * V * E }, (_, i) => Math.sin(i));
const labels = Int32Array.from({ length: N }, (_, i) => i % K);

function withExtras(): ContextVectors {
  return {
    data: new Float32Array(8).fill(0.01),
    nCtx: 2,
    dim: 4,
    cscClasses: 0,
    extras: [
      { name: 'meta_net.linear1.weight', shape: [2, 3], data: Float32Array.from([0.1, -0.2, 0.3, 0.4, -0.5, 0.6]) },
      { name: 'head.bias', shape: [2], data: Float32Array.from([1, -1]), lrScale: 6.5 },
    ],
  };
}

/** A quadratic bowl per tensor (towards i − 3), plus the batch's feature sum so sampling matters. */
function gradOf(p: Float32Array, fsum: number): Float32Array {
  return p.map((c, i) => c - (i - 3) + 0.01 * fsum);
}

function bowl(nanAt = -1, calls: ContextVectors[] = []): LossAndGradFn {
  return (ctx, features) => {
    calls.push(cloneContext(ctx));
    const fsum = features.reduce((s, x) => s + x, 0);
    const gradExtras = (ctx.extras ?? []).map((p) => gradOf(p.data, fsum));
    if (calls.length === nanAt) gradExtras[1][0] = NaN;
    return { loss: 1, logits: new Float32Array(features.length / E * K), gradCtx: gradOf(ctx.data, fsum), gradExtras };
  };
}

function make(settings: TrainSettings, lossAndGrad: LossAndGradFn = bowl(), initialContext = withExtras()) {
  return new CoopTrainer({ settings, data: { viewFeatures, nImages: N, nViews: V, dim: E, labels, nClasses: K }, initialContext, lossAndGrad, now: () => 0 });
}

async function drain(gen: AsyncGenerator<TrainEvent>, stopAfter = Infinity, tr?: CoopTrainer): Promise<TrainEvent[]> {
  const out: TrainEvent[] = [];
  for await (const e of gen) {
    out.push(e);
    if (e.type === 'step' && e.step === stopAfter) tr?.stop();
  }
  return out;
}

/** The run written plainly: each tensor by itself, an extra with lrScale s at a cosine from s·lr after warmup. */
function replay(settings: TrainSettings): ContextVectors {
  const ctx = withExtras();
  const tensors = [ctx.data, ...ctx.extras!.map((p) => p.data)];
  const scales = [1, ...ctx.extras!.map((p) => p.lrScale ?? 1)];
  const sgdStates = tensors.map(createSgdState);
  const adamStates = tensors.map(createAdamState);
  for (let e = 0; e < EPOCHS; e++) {
    for (const b of epochPlan({ nImages: N, nViews: V, batchSize: 4, seed: 3, epoch: e })) {
      const { features } = gatherBatch(b, viewFeatures, V, E, labels);
      const fsum = features.reduce((a, x) => a + x, 0);
      tensors.forEach((p, i) => {
        const lr = lrAtEpoch(e, EPOCHS, { ...settings, lr: settings.lr * scales[i] });
        const g = gradOf(p, fsum);
        if (settings.optimizer === 'adam') adamStep(p, g, adamStates[i], lr, settings);
        else sgdStep(p, g, sgdStates[i], lr, settings);
      });
    }
  }
  return ctx;
}

function expectSameContext(a: ContextVectors, b: ContextVectors) {
  expect(Array.from(a.data)).toEqual(Array.from(b.data));
  expect(a.extras!.map((p) => [p.name, p.shape, Array.from(p.data), p.lrScale])).toEqual(b.extras!.map((p) => [p.name, p.shape, Array.from(p.data), p.lrScale]));
}

describe('CoopTrainer with extras', () => {
  for (const settings of [sgd, adam]) {
    it(`${settings.optimizer}: trains the context and every extra, each at its lr, as a plain replay`, async () => {
      const tr = make(settings);
      const events = await drain(tr.run());
      expect(events.at(-1)).toMatchObject({ type: 'done' });
      expectSameContext(tr.context, replay(settings));
    });

    it(`${settings.optimizer}: a checkpoint restored into a new trainer finishes as the uninterrupted run`, async () => {
      const whole = make(settings);
      await drain(whole.run());
      const first = make(settings);
      await drain(first.run(), 3, first);
      // Through a structured clone, as IndexedDB and postMessage carry it.
      const cp: TrainerCheckpoint = structuredClone(first.checkpoint());
      if (settings.optimizer === 'adam') {
        expect(cp.adam).toHaveLength(3);
        expect(cp.adam!.every((s) => s.step === 3 && s.expAvg && s.expAvgSq)).toBe(true);
        expect(cp.momentum).toBeNull();
      } else {
        expect(cp.adam).toBeUndefined();
        expect(cp.extrasMomentum).toHaveLength(2);
        expect(cp.extrasMomentum!.map((b) => b!.length)).toEqual([6, 2]);
      }
      const second = make(settings);
      second.restore(cp);
      expect(second.status).toBe('stopped');
      await drain(second.run());
      expectSameContext(second.context, whole.context);
      expect(second.checkpoint()).toEqual(whole.checkpoint());
    });
  }

  it('leaves the context trajectory as without extras (the extras are stepped after it, on their own state)', async () => {
    const plain = { ...withExtras(), extras: undefined };
    const a = make(sgd, bowl(), plain);
    const b = make(sgd);
    await drain(a.run());
    await drain(b.run());
    expect(Array.from(b.context.data)).toEqual(Array.from(a.context.data));
    expect(a.checkpoint()).not.toHaveProperty('extrasMomentum');
  });

  it('an extra with lrScale trains at the warmup lr during warmup and at the scaled cosine after it', async () => {
    // No momentum, no decay, a unit gradient on head.bias only: each step moves it by exactly its lr.
    const s = withDefaults({ ...sgd, momentum: 0, weightDecay: 0 });
    const seen: number[] = [];
    const unit: LossAndGradFn = (ctx) => {
      seen.push(ctx.extras![1].data[0]);
      return { loss: 1, logits: new Float32Array(4 * K), gradCtx: new Float32Array(8), gradExtras: [new Float32Array(6), Float32Array.of(1, 1)] };
    };
    const tr = make(s, unit);
    const lrs: number[] = [];
    for await (const e of tr.run()) if (e.type === 'step') lrs.push(e.lr);
    seen.push(tr.context.extras![1].data[0]);
    const moved = seen.slice(1).map((x, k) => seen[k] - x);
    const want = lrs.map((_, k) => {
      const epoch = Math.floor(k / tr.stepsPerEpoch);
      return epoch < s.warmupEpochs ? s.warmupLr : lrAtEpoch(epoch, EPOCHS, { ...s, lr: s.lr * 6.5 });
    });
    moved.forEach((m, k) => expect(m).toBeCloseTo(want[k], 6));
    expect(want[0]).toBe(0.01);
    // After warmup, 6.5 × the context's lr (the step events report the context's).
    expect(want.at(-1)! / lrs.at(-1)!).toBeCloseTo(6.5, 12);
    expect(Array.from(tr.context.data)).toEqual(Array.from(withExtras().data));
  });

  it('refuses gradients of the wrong count or length, and names the tensor', async () => {
    const fewer: LossAndGradFn = (ctx, f, l) => ({ ...(bowl()(ctx, f, l) as object), gradExtras: [new Float32Array(6)] }) as never;
    const tr = make(sgd, fewer);
    const ev = await drain(tr.run());
    expect(ev.at(-1)).toMatchObject({ type: 'error', message: expect.stringMatching(/1 gradients for the context's 2 extra tensors/) });
    expect(tr.status).toBe('failed');
    const shorter: LossAndGradFn = (ctx, f, l) => ({ ...(bowl()(ctx, f, l) as object), gradExtras: [new Float32Array(6), new Float32Array(1)] }) as never;
    const ev2 = await drain(make(sgd, shorter).run());
    expect(ev2.at(-1)).toMatchObject({ type: 'error', message: expect.stringMatching(/1 values for head\.bias of 2/) });
    const none: LossAndGradFn = (ctx, f, l) => ({ ...(bowl()(ctx, f, l) as object), gradExtras: undefined }) as never;
    expect((await drain(make(sgd, none).run())).at(-1)).toMatchObject({ type: 'error' });
  });

  for (const settings of [sgd, adam]) {
    it(`${settings.optimizer}: a non-finite extra gradient rolls every tensor and the optimizer back to before the last update`, async () => {
      const calls: ContextVectors[] = [];
      const tr = make(settings, bowl(4, calls));
      const ev = await drain(tr.run());
      expect(ev.at(-1)).toMatchObject({ type: 'error', message: expect.stringMatching(/gradient of head\.bias became NaN/) });
      // The 4th call saw the state after 3 updates; the failure restores the state before the 3rd update (call 3's input).
      expectSameContext(tr.context, calls[2]);
      expect(tr.position).toEqual({ epoch: 1, batch: 0, step: 2 });
      // Resuming with a finite gradient replays the update from there: the result equals an uninterrupted run.
      const cp = tr.checkpoint();
      const clean = make(settings);
      clean.restore(cp);
      await drain(clean.run());
      const whole = make(settings);
      await drain(whole.run());
      expectSameContext(clean.context, whole.context);
    });
  }

  it("restore refuses a checkpoint whose extras or optimizer state do not fit the run's", async () => {
    const tr = make(sgd);
    await drain(tr.run(), 2, tr);
    const cp = tr.checkpoint();
    const fresh = () => make(sgd);
    const renamed = structuredClone(cp);
    renamed.context.extras![0].name = 'other';
    expect(() => fresh().restore(renamed)).toThrow(/extra tensor 0 is "other"/);
    const reshaped = structuredClone(cp);
    reshaped.context.extras![0].shape = [3, 2];
    expect(() => fresh().restore(reshaped)).toThrow(/shape \[3, 2\]/);
    const dropped = structuredClone(cp);
    dropped.context.extras!.pop();
    expect(() => fresh().restore(dropped)).toThrow(/1 extra tensors, this run's 2/);
    const shortMomentum = structuredClone(cp);
    shortMomentum.extrasMomentum![1] = new Float32Array(1);
    expect(() => fresh().restore(shortMomentum)).toThrow(/momentum of the extra tensor 1 has 1 values/);
    const noMomentum = structuredClone(cp);
    delete noMomentum.extrasMomentum;
    expect(() => fresh().restore(noMomentum)).toThrow(/no momentum for the context's extra tensors/);
    // SGD's checkpoint into an Adam run and back.
    expect(() => make(adam).restore(cp)).toThrow(/taken with SGD, but this run trains with Adam/);
    const ta = make(adam);
    await drain(ta.run(), 2, ta);
    const cpa = ta.checkpoint();
    expect(() => fresh().restore(cpa)).toThrow(/taken with Adam, but this run trains with SGD/);
    const miscounted = structuredClone(cpa);
    miscounted.adam![1].step = 1;
    expect(() => make(adam).restore(miscounted)).toThrow(/counts 1 steps, the run 2/);
    const noMoments = structuredClone(cpa);
    noMoments.adam![2].expAvgSq = null;
    expect(() => make(adam).restore(noMoments)).toThrow(/lacks its moments/);
    // A failed restore changes nothing: a trainer that refused one still trains as new.
    const refused = make(adam);
    expect(() => refused.restore(miscounted)).toThrow();
    await drain(refused.run());
    expectSameContext(refused.context, replay(adam));
  });

  it('a checkpoint before the first step fits either optimizer; old CoOp checkpoints (no extras fields) still restore', async () => {
    make(adam).restore(make(sgd).checkpoint());
    const coop = { ...withExtras(), extras: undefined };
    const a = make(sgd, bowl(), coop);
    await drain(a.run(), 2, a);
    const { extrasMomentum, adam: adamState, ...old } = a.checkpoint();
    expect(extrasMomentum).toBeUndefined();
    expect(adamState).toBeUndefined();
    const b = make(sgd, bowl(), coop);
    b.restore(old);
    expect(b.position.step).toBe(2);
  });
});
