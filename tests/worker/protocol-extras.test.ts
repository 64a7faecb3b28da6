/**
 * Contexts with extras and checkpoints with every tensor's optimizer state cross postMessage whole: the worker's
 * replies go through compactViews and a transfer list (train.worker.ts), the page's requests by structured clone.
 */
import { describe, expect, it } from 'vitest';
import type { ContextVectors } from '../../src/coop/context-init';
import { withDefaults } from '../../src/coop/settings';
import { CoopTrainer, type LossAndGradFn } from '../../src/coop/trainer';
import { compactViews, transferablesOf, type Snapshot, type WorkerReply } from '../../src/worker/protocol';

const N = 8, V = 1, E = 2, K = 2;
const data = { viewFeatures: Float32Array.from({ length: N * V * E }, (_, i) => i / 10), nImages: N, nViews: V, dim: E, labels: Int32Array.from({ length: N }, (_, i) => i % K), nClasses: K };
const initial = (): ContextVectors => ({
  data: new Float32Array(6).fill(0.1),
  nCtx: 2,
  dim: 3,
  cscClasses: 0,
  extras: [
    { name: 'prompt_learner.meta_net.linear1.weight', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
    { name: 'head.weight', shape: [2, 2], data: Float32Array.from([0.5, -0.5, 0.25, 0]), lrScale: 6.5 },
  ],
});
const lossAndGrad: LossAndGradFn = (ctx) => ({
  loss: 1,
  logits: new Float32Array(4 * K),
  gradCtx: ctx.data.map((x) => x - 1),
  gradExtras: ctx.extras!.map((p) => p.data.map((x) => x + 1)),
});

/** Posts `msg` as the worker does and resolves with what the other side receives. */
function post<T>(msg: T, transfer: boolean): Promise<T> {
  const { port1, port2 } = new MessageChannel();
  return new Promise((resolve) => {
    port2.onmessage = (e) => {
      port1.close();
      port2.close();
      resolve(e.data as T);
    };
    if (transfer) {
      const m = compactViews(msg);
      port1.postMessage(m, transferablesOf(m));
    } else port1.postMessage(msg);
  });
}

describe('extras and optimizer state over postMessage', () => {
  for (const optimizer of ['sgd', 'adam'] as const) {
    it(`${optimizer}: a snapshot (worker → page, transferred) and a resume request (page → worker, cloned) keep everything`, async () => {
      const settings = withDefaults({ nCtx: 2, batchSize: 4, epochs: 3, optimizer });
      const tr = new CoopTrainer({ settings, data, initialContext: initial(), lossAndGrad, now: () => 0 });
      for await (const e of tr.run()) if (e.type === 'step' && e.step === 2) tr.stop();
      const snapshot: Snapshot = { context: tr.context, textFeatures: new Float32Array(4), predictions: {}, accuracies: {}, epoch: 1, step: 2, checkpoint: tr.checkpoint() };
      const expected = structuredClone(snapshot);
      const reply = await post<WorkerReply>({ type: 'snapshot', snapshot }, true);
      if (reply.type !== 'snapshot') throw new Error(reply.type);
      expect(reply.snapshot).toEqual(expected);
      // The trainer's own state was copied before it was sent: transferring detached only the copies.
      expect(tr.context).toEqual(expected.context);
      expect(tr.checkpoint()).toEqual(expected.checkpoint);
      // Back to a worker after a reload: SetupRequest.resume by structured clone.
      const resume = await post({ resume: reply.snapshot.checkpoint }, false);
      const again = new CoopTrainer({ settings, data, initialContext: initial(), lossAndGrad, now: () => 0 });
      again.restore(resume.resume!);
      for await (const _ of again.run());
      for await (const _ of tr.run());
      expect(again.checkpoint()).toEqual(tr.checkpoint());
    });
  }
});
