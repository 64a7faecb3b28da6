/**
 * A successor's run through the session: its context's extras, its method and its optimizer state (SGD's momentum of
 * every tensor, or Adam's moments and step counts) survive IndexedDB's structured clone and a project file, and the
 * restored checkpoint finishes exactly as the uninterrupted run. Records saved before extras and Adam still load.
 */
import { describe, expect, it } from 'vitest';
import type { ContextVectors } from '../../src/coop/context-init';
import type { PromptFileMethod } from '../../src/coop/prompt-file';
import { optimizerOf } from '../../src/coop/param-optimizer';
import { withDefaults, type TrainSettings } from '../../src/coop/settings';
import { CoopTrainer, type LossAndGradFn } from '../../src/coop/trainer';
import { readProject, writeProject } from '../../src/session/project-file';
import { checkRun, type RunRecord } from '../../src/session/records';
import { FP, project } from '../helpers/project-fixture';

const N = 8, V = 2, E = 3, K = 2, D = 4;
const viewFeatures = Float32Array.from({ length: N * V * E }, (_, i) => Math.cos(i));
const labels = Int32Array.from({ length: N }, (_, i) => i % K);
const TCP: PromptFileMethod = { name: 'tcp', settings: { block: 1, template: 'a photo of a {}.' } };

const initial = (): ContextVectors => ({
  data: Float32Array.from({ length: 2 * D }, (_, i) => Math.fround(Math.sin(i) / 7)),
  nCtx: 2,
  dim: D,
  cscClasses: 0,
  extras: [
    { name: 'mlp.0.weight', shape: [3, 2], data: Float32Array.from([0.1, -0.2, 0.3, 0.4, -0.5, 0.6]) },
    { name: 'mlp.0.bias', shape: [3], data: Float32Array.from([1, -1, 0.5]), lrScale: 6.5 },
  ],
});

/** A bowl per tensor plus the batch's feature sum, so sampling matters. */
const bowl: LossAndGradFn = (ctx, features) => {
  const fsum = features.reduce((s, x) => s + x, 0);
  const g = (p: Float32Array) => p.map((c, i) => c - (i - 2) + 0.01 * fsum);
  return { loss: 1, logits: new Float32Array((features.length / E) * K), gradCtx: g(ctx.data), gradExtras: (ctx.extras ?? []).map((p) => g(p.data)) };
};

const make = (settings: TrainSettings) =>
  new CoopTrainer({ settings, data: { viewFeatures, nImages: N, nViews: V, dim: E, labels, nClasses: K }, initialContext: initial(), lossAndGrad: bowl, now: () => 0 });

async function runTo(tr: CoopTrainer, stopAt = Infinity) {
  for await (const e of tr.run()) if (e.type === 'step' && e.step === stopAt) tr.stop();
}

/** The fixture project's run, replaced by a stopped successor run. */
function successorProject(tr: CoopTrainer, settings: TrainSettings) {
  const p = project();
  const base = p.runs[0];
  const run: RunRecord = { ...base, settings, status: 'stopped', view: { ...base.view!, context: tr.context }, checkpoint: tr.checkpoint(), method: TCP };
  return { ...p, runs: [run] };
}

const promptModel = () => ({ id: 'toy-clip', fingerprint: FP, width: D });
const data = (c: ContextVectors) => [Array.from(c.data), ...(c.extras ?? []).map((p) => [p.name, p.shape, Array.from(p.data), p.lrScale])];

describe('a successor run in the session', () => {
  for (const optimizer of ['sgd', 'adam'] as const) {
    const settings = withDefaults({ nCtx: 2, batchSize: 4, epochs: 3, lr: 0.1, optimizer });

    it(`${optimizer}: saved to IndexedDB (structured clone) and to a project, it loads and resumes to the uninterrupted result`, async () => {
      const whole = make(settings);
      await runTo(whole);
      const stopped = make(settings);
      await runTo(stopped, 3);
      const p = successorProject(stopped, settings);

      // IndexedDB stores the record by structured clone.
      const stored: RunRecord = structuredClone(p.runs[0]);
      expect(checkRun(stored)).toBeNull();
      // A project file: project.json ($f32 arrays) plus the run's prompt file (version 2, with the method).
      const r = readProject(await writeProject(p), { fileName: 'p.zip', hasModel: () => true, promptModel });
      if (!r.ok) throw new Error(r.error);
      const fromProject = r.project.runs[0];
      expect(checkRun(fromProject)).toBeNull();
      expect(fromProject.method).toEqual(TCP);
      expect(fromProject.settings.optimizer).toBe(optimizer);
      expect(data(fromProject.view!.context!)).toEqual(data(stopped.context));

      for (const rec of [stored, fromProject]) {
        expect(rec.checkpoint).toEqual(stopped.checkpoint());
        const resumed = make(rec.settings);
        resumed.restore(rec.checkpoint!);
        await runTo(resumed);
        expect(data(resumed.context)).toEqual(data(whole.context));
        expect(resumed.checkpoint()).toEqual(whole.checkpoint());
      }
    });
  }

  it('records from before extras and Adam (no optimizer setting, no extras fields) still load and resume with SGD', async () => {
    const p = project();
    const old = structuredClone(p.runs[0]);
    delete (old.settings as Partial<TrainSettings>).optimizer;
    expect(checkRun(old)).toBeNull();
    const r = readProject(await writeProject({ ...p, runs: [old] }), { fileName: 'p.zip', hasModel: () => true, promptModel });
    if (!r.ok) throw new Error(r.error);
    expect(r.project.runs[0]).not.toHaveProperty('method');
    expect(optimizerOf(r.project.runs[0].settings)).toBe('sgd');
    const ctx = p.runs[0].checkpoint!.context;
    const tr = new CoopTrainer({ settings: old.settings, data: { viewFeatures, nImages: N, nViews: V, dim: E, labels, nClasses: K }, initialContext: ctx, lossAndGrad: bowl, now: () => 0, // Two batches an epoch (the fixture's batch size is CoOp's 32, more than these images).
      plan: () => [Int32Array.of(0, 1), Int32Array.of(2, 3)].map((images) => ({ images, views: new Int32Array(2) })),
    });
    tr.restore({ ...p.runs[0].checkpoint!, epoch: 1, batch: 0, step: 2 });
    expect(tr.position.step).toBe(2);
    await runTo(tr);
    expect(tr.status).toBe('done');
  });

  it('checkRun names a damaged extra tensor or optimizer state', async () => {
    const tr = make(withDefaults({ nCtx: 2, batchSize: 4, epochs: 3, optimizer: 'adam' }));
    await runTo(tr, 2);
    const good = successorProject(tr, tr.settings).runs[0];
    const broken = (f: (r: RunRecord) => void) => {
      const r = structuredClone(good);
      f(r);
      return checkRun(r);
    };
    expect(broken(() => {})).toBeNull();
    expect(broken((r) => (r.view!.context!.extras![0].shape = [4, 2]))).toBe('its context\'s mlp.0.weight holds 6 values for [4, 2]');
    expect(broken((r) => (r.view!.context!.extras![1].data[0] = NaN))).toBe("its context's mlp.0.bias has non-finite values");
    expect(broken((r) => (r.checkpoint!.context.extras = 'x' as never))).toBe("its checkpoint's context has damaged extra tensors");
    expect(broken((r) => (r.checkpoint!.adam![2].expAvg = new Float32Array(1)))).toBe("a damaged checkpoint's Adam state");
    expect(broken((r) => r.checkpoint!.adam!.pop())).toBe("a damaged checkpoint's Adam state");
    expect(broken((r) => (r.checkpoint!.extrasMomentum = [null]))).toBe("a damaged checkpoint's momentum of the extra tensors");
    expect(broken((r) => (r.method = { name: 'tcp', settings: {} }))).toMatch(/^a damaged method \(the tcp method needs the setting "block"/);
    expect(broken((r) => (r.method = 'tcp' as never))).toMatch(/^a damaged method/);
  });
});
