import { describe, expect, it } from 'vitest';
import type { ContextVectors } from '../../src/coop/context-init';
import { epochPlan, gatherBatch } from '../../src/coop/sampler';
import { lrAtEpoch } from '../../src/coop/schedule';
import { withDefaults } from '../../src/coop/settings';
import { createSgdState, sgdStep } from '../../src/coop/sgd';
import { CoopTrainer, type LossAndGradFn, type TrainEvent, type TrainerOptions } from '../../src/coop/trainer';

const N = 10, V = 2, E = 3, K = 2;
const settings = withDefaults({ nCtx: 2, batchSize: 4, epochs: 5, lr: 0.3, warmupLr: 0.01, seed: 3 });
const viewFeatures = Float32Array.from({ length: N * V * E }, (_, i) => Math.sin(i));
const labels = Int32Array.from({ length: N }, (_, i) => i % K);
const target = Float32Array.from({ length: 8 }, (_, i) => i - 3);
const initial = (): ContextVectors => ({ data: new Float32Array(8).fill(0.01), nCtx: 2, dim: 4, cscClasses: 0 });

/** A quadratic bowl around `target`, plus a dependence on the batch so sampling matters. */
function quadratic(calls: { ctx: Float32Array; features: Float32Array }[] = [], nanAt = -1): LossAndGradFn {
  return async (ctx, features, lbls) => {
    calls.push({ ctx: ctx.data.slice(), features: features.slice() });
    const fsum = features.reduce((s, x) => s + x, 0);
    const grad = ctx.data.map((c, i) => c - target[i] + 0.01 * fsum);
    const loss = calls.length === nanAt ? NaN : 0.5 * ctx.data.reduce((s, c, i) => s + (c - target[i]) ** 2, 0);
    // Logits that are right for every other image: batch accuracy is observable.
    const logits = new Float32Array(lbls.length * K);
    lbls.forEach((y, r) => (logits[r * K + (r % 2 === 0 ? y : 1 - y)] = 1));
    return { loss, logits, gradCtx: grad };
  };
}

function make(extra: Partial<TrainerOptions> = {}) {
  let t = 0;
  return new CoopTrainer({
    settings,
    data: { viewFeatures, nImages: N, nViews: V, dim: E, labels, nClasses: K },
    initialContext: initial(),
    lossAndGrad: quadratic(),
    evaluate: () => ({ trainAcc: 0.5, testAcc: 0.25 }),
    now: () => (t += 10),
    ...extra,
  });
}

async function drain(gen: AsyncGenerator<TrainEvent>, onEvent?: (e: TrainEvent) => void): Promise<TrainEvent[]> {
  const out: TrainEvent[] = [];
  for await (const e of gen) {
    out.push(e);
    onEvent?.(e);
  }
  return out;
}

/** The same training written as plainly as possible, to check the loop against. */
function replay(): Float32Array {
  const p = initial().data;
  const s = createSgdState();
  for (let e = 0; e < 5; e++) {
    for (const b of epochPlan({ nImages: N, nViews: V, batchSize: 4, seed: 3, epoch: e })) {
      const { features } = gatherBatch(b, viewFeatures, V, E, labels);
      const fsum = features.reduce((a, x) => a + x, 0);
      sgdStep(p, p.map((c, i) => c - target[i] + 0.01 * fsum), s, lrAtEpoch(e, 5, settings), settings);
    }
  }
  return p;
}

describe('CoopTrainer', () => {
  it('runs the schedule: steps, lr per epoch, evaluation per epoch, and the same result as a plain replay', async () => {
    const calls: { ctx: Float32Array; features: Float32Array }[] = [];
    const tr = make({ lossAndGrad: quadratic(calls) });
    expect(tr.stepsPerEpoch).toBe(2); // 10 images, batches of 4, last partial dropped
    const events = await drain(tr.run());
    const steps = events.filter((e) => e.type === 'step');
    expect(steps.length).toBe(10);
    expect(steps.map((e) => e.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(steps.map((e) => e.lr)).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4].map((ep) => lrAtEpoch(ep, 5, settings)));
    expect(steps[0].lr).toBe(0.01);
    expect(steps.every((e) => e.batchAcc === 0.5 && e.stepsPerSec > 0 && e.totalSteps === 10)).toBe(true);
    const epochs = events.filter((e) => e.type === 'epoch');
    expect(epochs.map((e) => [e.epoch, e.trainAcc, e.testAcc])).toEqual([1, 2, 3, 4, 5].map((e) => [e, 0.5, 0.25]));
    expect(events.at(-1)).toMatchObject({ type: 'done', step: 10 });
    expect(tr.status).toBe('done');
    expect(tr.context.data).toEqual(replay());
    // The loss fell as the context moved towards the bowl's centre.
    expect(steps.at(-1)!.loss).toBeLessThan(steps[0].loss / 2);
    expect(calls[0].features).toEqual(gatherBatch(epochPlan({ nImages: N, nViews: V, batchSize: 4, seed: 3, epoch: 0 })[0], viewFeatures, V, E, labels).features);
  });

  it('stop then resume continues from the same context, momentum and schedule position', async () => {
    const tr = make();
    const first = await drain(tr.run(), (e) => e.type === 'step' && e.step === 3 && tr.stop());
    expect(first.at(-1)).toMatchObject({ type: 'stopped', step: 3 });
    expect(tr.status).toBe('stopped');
    expect(tr.position).toEqual({ epoch: 1, batch: 1, step: 3 });
    const second = await drain(tr.run());
    const steps = second.filter((e) => e.type === 'step');
    expect(steps.map((e) => e.step)).toEqual([4, 5, 6, 7, 8, 9, 10]);
    expect(steps[0]).toMatchObject({ epoch: 2, stepInEpoch: 2 });
    expect(tr.context.data).toEqual(replay());
    expect(tr.elapsedMs).toBeGreaterThan(0);
  });

  it('a checkpoint taken after an epoch, restored into a new trainer (a reload), ends with exactly the uninterrupted context', async () => {
    const whole = make();
    await drain(whole.run());
    for (const stopAt of [1, 3]) {
      const first = make();
      await drain(first.run(), (e) => e.type === 'epoch' && e.epoch === stopAt && first.stop());
      // What IndexedDB stores is a structured clone.
      const cp = structuredClone(first.checkpoint());
      expect(cp).toMatchObject({ epoch: stopAt, batch: 0, step: stopAt * 2 });
      expect(cp.momentum).not.toBeNull();
      const second = make();
      second.restore(cp);
      const rest = await drain(second.run());
      expect(rest.filter((e) => e.type === 'step')[0]).toMatchObject({ step: stopAt * 2 + 1, epoch: stopAt + 1, stepInEpoch: 1 });
      expect(second.status).toBe('done');
      expect(second.context.data).toEqual(whole.context.data);
    }
  });

  it('restore refuses a checkpoint of another shape or schedule', () => {
    const tr = make();
    const cp = tr.checkpoint();
    expect(() => tr.restore({ ...cp, context: { ...cp.context, data: new Float32Array(4), nCtx: 1 } })).toThrow(/does not fit/);
    expect(() => tr.restore({ ...cp, epoch: 9, step: 18 })).toThrow(/position/);
    expect(() => tr.restore({ ...cp, momentum: new Float32Array(3) })).toThrow(/momentum/);
  });

  it('breaking out of the event loop leaves a resumable, stopped trainer', async () => {
    const tr = make();
    for await (const e of tr.run()) if (e.type === 'step' && e.step === 2) break;
    expect(tr.status).toBe('stopped');
    await drain(tr.run());
    expect(tr.context.data).toEqual(replay());
  });

  it('a NaN loss stops, restores the last finite context and says so; resuming after it recovers the same run', async () => {
    const calls: { ctx: Float32Array; features: Float32Array }[] = [];
    const tr = make({ lossAndGrad: quadratic(calls, 5) });
    const events = await drain(tr.run());
    const err = events.at(-1)!;
    expect(err).toMatchObject({ type: 'error', epoch: 3, stepInEpoch: 1 });
    expect(err.type === 'error' && err.message).toBe(
      'Loss became NaN at epoch 3 step 1; the context was restored to the last finite values. Lower the learning rate and resume.',
    );
    expect(tr.status).toBe('failed');
    expect(tr.error).toMatch(/NaN at epoch 3 step 1/);
    // Back to the state before update 4 (whose result gave the NaN), with its schedule position.
    expect(tr.context.data).toEqual(calls[3].ctx);
    expect(tr.position).toEqual({ epoch: 1, batch: 1, step: 3 });
    const resumed = await drain(tr.run());
    expect(calls[5].ctx).toEqual(calls[3].ctx);
    expect(resumed.filter((e) => e.type === 'step')[0]).toMatchObject({ step: 4, epoch: 2, stepInEpoch: 2 });
    expect(tr.status).toBe('done');
    expect(tr.context.data).toEqual(replay());
  });

  it('a NaN on the very first step keeps the initial context', async () => {
    const tr = make({ lossAndGrad: quadratic([], 1) });
    const events = await drain(tr.run());
    expect(events).toHaveLength(1);
    expect(events[0].type).toBe('error');
    expect(tr.context.data).toEqual(initial().data);
  });

  it('an infinite gradient or an overflowing update is caught too', async () => {
    const inf: LossAndGradFn = (ctx) => ({ loss: 1, logits: new Float32Array(8), gradCtx: new Float32Array(ctx.data.length).fill(Infinity) });
    const a = make({ lossAndGrad: inf });
    const ea = await drain(a.run());
    expect(ea.at(-1)).toMatchObject({ type: 'error' });
    expect(a.error).toMatch(/^The gradient became infinite at epoch 1 step 1/);
    const huge: LossAndGradFn = (ctx) => ({ loss: 1, logits: new Float32Array(8), gradCtx: new Float32Array(ctx.data.length).fill(1e38) });
    const b = make({ lossAndGrad: huge, settings: withDefaults({ ...settings, warmupLr: 1e3 }) });
    await drain(b.run());
    expect(b.error).toMatch(/^The context became infinite after the update at epoch 1 step 1/);
    expect(b.context.data).toEqual(initial().data);
  });

  it('reset returns to the initial context and epoch 0, and a run in flight ends silently', async () => {
    const tr = make();
    const events = await drain(tr.run(), (e) => e.type === 'step' && e.step === 4 && tr.reset());
    expect(events.at(-1)).toMatchObject({ type: 'step', step: 4 });
    expect(tr.status).toBe('idle');
    expect(tr.position).toEqual({ epoch: 0, batch: 0, step: 0 });
    expect(tr.context.data).toEqual(initial().data);
    await drain(tr.run());
    expect(tr.context.data).toEqual(replay());
    const fresh: ContextVectors = { data: new Float32Array(8), nCtx: 2, dim: 4, cscClasses: 0 };
    tr.reset(fresh);
    expect(tr.context.data).toEqual(fresh.data);
  });

  it("auto epochs follow the shots: 10 images of 2 classes is 5 shots → 200 epochs", () => {
    const tr = make({ settings: withDefaults({ ...settings, epochs: 'auto' }) });
    expect(tr.maxEpochs).toBe(200);
    expect(tr.totalSteps).toBe(400);
  });
});

describe('CoopTrainer with a failing engine', () => {
  it('an engine exception reaches the consumer and leaves the trainer resumable', async () => {
    let calls = 0;
    const inner = quadratic();
    const flaky: LossAndGradFn = (ctx, f, l) => {
      if (++calls === 3) throw new Error('device lost');
      return inner(ctx, f, l);
    };
    const tr = make({ lossAndGrad: flaky });
    await expect(drain(tr.run())).rejects.toThrow('device lost');
    expect(tr.status).toBe('stopped');
    expect(tr.position.step).toBe(2);
    await drain(tr.run());
    expect(tr.context.data).toEqual(replay());
  });
});
