import { describe, expect, it } from 'vitest';
import { parseAdapterFile, serializeAdapterFile } from '../src/coop/adapter-file';
import { adapterLogits, type FeatureFitResult } from '../src/coop/adapter-methods';
import { adapterFileOf, adapterProbabilities, scoreAdapter } from '../src/app/train/adapter-files';

const dim = 4;
const model = { id: 'toy-clip', imageFingerprint: 'ab'.repeat(32) };
// CLAP weights: one row per class; class k scores highest on the unit vector e_k.
const clap = new Float32Array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0.25]);
const fit: FeatureFitResult = {
  method: 'clap',
  accuracies: { train: 1, test: 0.5, 'test/base': 0.75 },
  curve: [],
  ms: 12,
  note: 'last epoch',
  weights: { method: 'clap', weights: clap, scale: 100 },
  settings: { epochs: 300, lr: 0.1 },
};
const e = (k: number) => Float32Array.from({ length: dim }, (_, i) => (i === k ? 1 : 0));
const rows = (...xs: Float32Array[]) => {
  const out = new Float32Array(xs.length * dim);
  xs.forEach((x, i) => out.set(x, i * dim));
  return out;
};

describe('the app’s coop-adapter files', () => {
  it('a fit’s file carries the method, model, fingerprint, classes, weights, settings and metrics, and reads back exactly', () => {
    const file = adapterFileOf(fit, ['cat', 'dog', 'fox'], model, { shots: 4, seed: 2 }, new Date('2026-12-02T08:00:00Z'));
    expect(file.settings).toEqual({ epochs: 300, lr: 0.1, shots: 4, seed: 2 });
    expect(file.metrics).toEqual({ train_acc: 1, test_acc: 0.5, test_base_acc: 0.75 });
    const text = serializeAdapterFile(file, dim);
    const json = JSON.parse(text);
    expect(json).toMatchObject({ format: 'coop-adapter', method: 'clap', method_name: 'CLAP', model: { id: 'toy-clip', image_model_sha256: model.imageFingerprint }, class_names: ['cat', 'dog', 'fox'], created: '2026-12-02T08:00:00.000Z' });
    const back = parseAdapterFile(text, { ...model, dim });
    if (!back.ok) throw new Error(back.error);
    const f = rows(e(0), e(1), e(2), Float32Array.from([0.5, 0.5, 0.5, 0.5]));
    expect(adapterLogits(back.file.weights, f, dim)).toEqual(adapterLogits(fit.weights, f, dim));
  });

  it('a file for another image tower is refused, naming both models', () => {
    const text = serializeAdapterFile(adapterFileOf(fit, ['cat', 'dog', 'fox'], model, { shots: 1, seed: 1 }), dim);
    const r = parseAdapterFile(text, { id: 'toy-clip', imageFingerprint: 'cd'.repeat(32), dim });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/this CLAP file was made with model 'toy-clip' \(image tower abababab…\), not the loaded 'toy-clip' \(cdcdcdcd…\)/);
  });

  it('scores the page’s images per split, by class name, leaving out classes the file does not know', () => {
    const images = [
      { split: 'train', className: 'cat' },
      { split: 'train', className: 'dog' },
      { split: 'test', className: 'fox' },
      { split: 'test', className: 'cat' },
      { split: 'test', className: 'owl' },
    ];
    // The 4th image looks like a dog: a miss on test.
    const s = scoreAdapter(fit.weights, ['cat', 'dog', 'fox'], images, rows(e(0), e(1), e(2), e(1), e(3)), dim);
    expect(s.accuracies).toEqual({ train: 1, test: 0.5 });
    expect(s.predictions).toEqual(['cat', 'dog', 'fox', 'dog', null]);
    expect(s.unknown).toBe(1);
  });

  it('probabilities are the softmax of the file’s logits', () => {
    const p = adapterProbabilities(fit.weights, e(2), dim);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    expect(p[2]).toBeGreaterThan(0.99);
  });
});
