import { describe, expect, it } from 'vitest';
import { adapterFileName, parseAdapterFile, serializeAdapterFile, isAdapterFile, type AdapterFile } from '../../src/coop/adapter-file';
import { adapterLogits, fitAndScore, fitFeatureAdapter, FEATURE_METHODS } from '../../src/coop/adapter-methods';
import { accuracy, argmaxRows } from '../../src/coop/metrics';
import { loadFixture } from '../helpers/fixture';

// The parity case's data (tools/toy-clip/adapter_dumps.py): 4 classes × 3 shots × 5 views, E = 32.
const fx = loadFixture('methods/adapters.bin');
const [N, V, E] = fx.shape('view_features');
const C = fx.meta.n_classes as number;
const views = fx.f32('view_features');
const labels = fx.i32('labels');
const anchors = fx.f32('text');
const text = new Float32Array(C * E);
for (let c = 0; c < C; c++) {
  const row = anchors.subarray(c * E, (c + 1) * E);
  const n = Math.hypot(...row);
  row.forEach((x, e) => (text[c * E + e] = x / n));
}
const clean = new Float32Array(N * E);
for (let i = 0; i < N; i++) clean.set(views.subarray(i * V * E, i * V * E + E), i * E);
const val = { features: fx.f32('val_features'), labels: fx.i32('val_labels') };
const model = { id: 'toy-clip', imageFingerprint: 'ab'.repeat(32), dim: E };
const names = ['star', 'red circle', 'hexagon', 'heart'];

describe('coop-adapter files', () => {
  for (const method of FEATURE_METHODS) {
    it(`${method}: fits, writes, reads back and classifies new features the same`, () => {
      const fit = fitFeatureAdapter(method, { viewFeatures: views, nImages: N, nViews: V, dim: E, labels, nClasses: C, cleanFeatures: clean, text, anchors, shots: 3, seed: 1, val });
      const before = adapterLogits(fit.weights, val.features, E);
      // It does not undo zero-shot CLIP on its own support set (TaskRes's residual is small beside these anchors).
      const zs = accuracy(argmaxRows(adapterLogits({ method: 'clap', weights: text, scale: 100 }, clean, E), N, C), labels);
      expect(accuracy(argmaxRows(adapterLogits(fit.weights, clean, E), N, C), labels)).toBeGreaterThanOrEqual(zs);
      const file: AdapterFile = { model: { id: model.id, imageFingerprint: model.imageFingerprint }, classNames: names, weights: fit.weights, settings: fit.settings, metrics: { test_acc: 0.5 }, created: '2026-12-02T00:00:00.000Z' };
      const written = serializeAdapterFile(file, E);
      expect(isAdapterFile(written)).toBe(true);
      expect(JSON.parse(written).method).toBe(method);
      expect(adapterFileName(file)).toBe(`${method}-toy-clip-4cls-2026-12-02.json`);
      const back = parseAdapterFile(written, model);
      if (!back.ok) throw new Error(back.error);
      expect(back.file.weights.method).toBe(method);
      expect(back.file.classNames).toEqual(names);
      expect(Array.from(adapterLogits(back.file.weights, val.features, E))).toEqual(Array.from(before));
    });
  }

  it('refuses another model, a newer version, a wrong shape and an unknown method, saying what to do', () => {
    const fit = fitFeatureAdapter('clap', { viewFeatures: views, nImages: N, nViews: V, dim: E, labels, nClasses: C, cleanFeatures: clean, text, anchors, shots: 3, seed: 1 });
    const good = serializeAdapterFile({ model: { id: model.id, imageFingerprint: model.imageFingerprint }, classNames: names, weights: fit.weights, settings: {}, metrics: {}, created: '' }, E);
    const bad = (edit: (j: Record<string, any>) => void) => {
      const j = JSON.parse(good);
      edit(j);
      const r = parseAdapterFile(JSON.stringify(j), model);
      return r.ok ? '' : r.error;
    };
    expect(bad((j) => (j.model.image_model_sha256 = 'cd'.repeat(32)))).toMatch(/made with model 'toy-clip'.*load that model, or train again/);
    expect(bad((j) => (j.version = 2))).toMatch(/version 2; this build reads up to version 1/);
    expect(bad((j) => j.tensors.weights.pop())).toMatch(/"tensors.weights" must have 4 rows/);
    expect(bad((j) => (j.tensors.weights[1][3] = 'x'))).toMatch(/row 1, column 3 is not a finite number/);
    expect(bad((j) => (j.method = 'coop'))).toMatch(/"method" "coop" is not one of clap, lpp, taskres, clip-adapter/);
    expect(bad((j) => (j.class_names = ['a', 'a', 'b', 'c']))).toMatch(/a name twice/);
    expect(parseAdapterFile('{', model)).toMatchObject({ ok: false });
  });
});

describe('fitAndScore (what the app shows for a feature-only method)', () => {
  it('scores every split, and base-to-new only among the base classes', () => {
    const input = { viewFeatures: views, nImages: N, nViews: V, dim: E, labels, nClasses: C, cleanFeatures: clean, text, anchors, shots: 3, seed: 1 };
    const r = fitAndScore({ method: 'lpp', input, evalSets: [{ name: 'test', ...val }], baseClasses: null });
    expect(Object.keys(r.accuracies).sort()).toEqual(['test', 'train']);
    expect(r.accuracies.test).toBeCloseTo(accuracy(argmaxRows(adapterLogits(r.weights, val.features, E), val.labels.length, C), val.labels), 12);
    expect(r.curve).toHaveLength(300);
    // Base-to-new: classes 0 and 2 train (labelled 0, 1 among them); the test split is scored on their images only.
    const keep = Array.from(labels.keys()).filter((i) => labels[i] === 0 || labels[i] === 2);
    const sub = (a: Float32Array, rows: number[], w: number) => Float32Array.from(rows.flatMap((i) => Array.from(a.subarray(i * w, (i + 1) * w))));
    const b = fitAndScore({
      method: 'clip-adapter',
      input: { ...input, viewFeatures: sub(views, keep, V * E), nImages: keep.length, labels: Int32Array.from(keep, (i) => (labels[i] === 0 ? 0 : 1)), nClasses: 2, cleanFeatures: sub(clean, keep, E), text: sub(text, [0, 2], E), anchors: undefined },
      evalSets: [{ name: 'test', ...val }],
      baseClasses: [0, 2],
    });
    expect(Object.keys(b.accuracies).sort()).toEqual(['test/base', 'train']);
    const vb = Array.from(val.labels.keys()).filter((i) => val.labels[i] === 0 || val.labels[i] === 2);
    const expected = accuracy(argmaxRows(adapterLogits(b.weights, sub(val.features, vb, E), E), vb.length, 2), Int32Array.from(vb, (i) => (val.labels[i] === 0 ? 0 : 1)));
    expect(b.accuracies['test/base']).toBeCloseTo(expected, 12);
  });
});
