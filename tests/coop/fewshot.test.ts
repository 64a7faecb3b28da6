/**
 * Few-shot sampling as Dassl's generate_fewshot_dataset: per class, `shots` images without replacement, seeded;
 * a class with fewer images keeps them all (repeat=False) and is reported.
 */
import { describe, expect, it } from 'vitest';
import { sampleFewShot } from '../../src/coop/fewshot';

const labels = [...Array(10).fill(0), ...Array(10).fill(1), ...Array(3).fill(2)];

describe('sampleFewShot', () => {
  it('takes exactly `shots` distinct images of each class, grouped class by class', () => {
    const r = sampleFewShot(labels, 3, 2, 1);
    expect(r.indices.length).toBe(6);
    expect(new Set(r.indices).size).toBe(6);
    expect(r.indices.map((i) => labels[i])).toEqual([0, 0, 1, 1, 2, 2]);
    expect(r.short).toEqual([]);
  });

  it('keeps every image of a class with fewer than `shots`, and says so', () => {
    const r = sampleFewShot(labels, 3, 4, 1);
    expect(r.indices.filter((i) => labels[i] === 2).sort()).toEqual([20, 21, 22]);
    expect(r.short).toEqual([{ label: 2, have: 3 }]);
    expect(r.indices.filter((i) => labels[i] === 0).length).toBe(4);
  });

  it('is seeded: the same seed gives the same sample, another seed another one', () => {
    expect(sampleFewShot(labels, 3, 4, 7)).toEqual(sampleFewShot(labels, 3, 4, 7));
    expect(sampleFewShot(labels, 3, 4, 7).indices).not.toEqual(sampleFewShot(labels, 3, 4, 8).indices);
  });

  it('draws uniformly without replacement (each image of a class equally often over seeds)', () => {
    const counts = new Array(10).fill(0);
    for (let s = 0; s < 2000; s++) for (const i of sampleFewShot(labels, 3, 3, s).indices) if (labels[i] === 0) counts[i]++;
    // 2000 draws × 3 of 10: expected 600 each; 5 sigma ≈ 100.
    for (const c of counts) expect(Math.abs(c - 600)).toBeLessThan(100);
  });

  it("a class's sample does not depend on the other classes' images", () => {
    const a = sampleFewShot(labels, 3, 2, 3).indices.filter((i) => labels[i] === 1);
    const more = [...labels.slice(0, 10), 0, 0, 0, ...labels.slice(10)];
    const b = sampleFewShot(more, 3, 2, 3).indices.filter((i) => more[i] === 1).map((i) => i - 3);
    expect(b).toEqual(a);
  });

  it('refuses a shot count that is not a positive integer', () => {
    expect(() => sampleFewShot(labels, 3, 0, 1)).toThrow(/positive integer/);
  });
});
