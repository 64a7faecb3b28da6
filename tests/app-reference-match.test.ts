import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { referenceApplies } from '../src/app/train/reference-match';

const baselines = JSON.parse(readFileSync('public/samples/baselines.json', 'utf8'));
const toy = JSON.parse(readFileSync('public/models/toy-clip/manifest.json', 'utf8'));

describe('the PyTorch reference columns', () => {
  it('stand beside the bundled model on the demo task (the committed baselines.json names it)', () => {
    expect(referenceApplies(baselines, toy, baselines.classes)).toBe(true);
    expect(referenceApplies(baselines, toy, [...baselines.classes].reverse())).toBe(true);
  });

  it('are left out for any other model, other weights, other classes, or a file that names no model', () => {
    expect(referenceApplies(baselines, { id: 'clip-vit-base-patch32', text_model_sha256: 'ab' }, baselines.classes)).toBe(false);
    expect(referenceApplies(baselines, { ...toy, text_model_sha256: '00' }, baselines.classes)).toBe(false);
    expect(referenceApplies(baselines, toy, baselines.classes.slice(1))).toBe(false);
    expect(referenceApplies(baselines, toy, [...baselines.classes.slice(1), 'cat'])).toBe(false);
    const { model: _, ...anonymous } = baselines;
    expect(referenceApplies(anonymous, toy, baselines.classes)).toBe(false);
    expect(referenceApplies(null, toy, baselines.classes)).toBe(false);
  });
});
