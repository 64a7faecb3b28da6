import { describe, expect, it } from 'vitest';
import { fitImageMap, MAX_FIT_ROWS, meanCosine, spread, textScale, textXY } from '../src/app/train/prompt-map';

/** n rows of width d in two clusters along the first coordinate, normalized like CLIP features. */
function features(n: number, d: number): Float32Array {
  const x = new Float32Array(n * d);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < d; j++) x[r * d + j] = Math.sin(r * 1.3 + j * 0.7) * 0.1 + (j === 0 ? (r % 2 ? 1 : -1) : 0) + (j === 1 ? 0.5 : 0);
    let s = 0;
    for (let j = 0; j < d; j++) s += x[r * d + j] ** 2;
    for (let j = 0; j < d; j++) x[r * d + j] /= Math.sqrt(s);
  }
  return x;
}

describe('the picture of the prompts', () => {
  it('puts the images on their main axes and says how much variance they hold', () => {
    const map = fitImageMap(features(60, 8), 60, 8);
    expect(map.xy.length).toBe(120);
    expect(map.explained[0]).toBeGreaterThan(0.5);
    expect(map.explained[0] + map.explained[1]).toBeLessThanOrEqual(1 + 1e-9);
    // The two clusters separate along the first axis.
    const signs = new Set(Array.from({ length: 60 }, (_, r) => Math.sign(map.xy[2 * r]) * (r % 2 ? 1 : -1)));
    expect(signs.size).toBe(1);
  });

  it('fits on an even sample of a large set and still places every image', () => {
    const n = MAX_FIT_ROWS * 2 + 7;
    const map = fitImageMap(features(n, 4), n, 4);
    expect(map.xy.length).toBe(2 * n);
    expect(Number.isFinite(map.xy[2 * n - 1])).toBe(true);
  });

  it('draws text features centred on their class mean, at the images’ scale, the same scale for learned ones', () => {
    const img = features(40, 6);
    const map = fitImageMap(img, 40, 6);
    const zs = features(5, 6).map((v, i) => v + (i % 6 === 2 ? 3 : 0)); // a shared offset: drawn away
    const scale = textScale(map.xy, map.pca, zs);
    const xy = textXY(map.pca, zs, scale);
    const mean = [0, 1].map((c) => Array.from({ length: 5 }, (_, r) => xy[2 * r + c]).reduce((a, b) => a + b) / 5);
    expect(Math.abs(mean[0]) + Math.abs(mean[1])).toBeLessThan(1e-5);
    expect(spread(xy)).toBeCloseTo(spread(map.xy), 5);
    // A learned set twice as spread is drawn twice as far out: one scale for both.
    const learned = zs.map((v, i) => 2 * v - (i % 6 === 2 ? 3 : 0));
    expect(spread(textXY(map.pca, learned, scale))).toBeCloseTo(2 * spread(xy), 4);
  });

  it('measures how far the learned prompts moved as their mean cosine to the zero-shot ones', () => {
    const a = new Float32Array([1, 0, 0, 1]);
    expect(meanCosine(a, a, 2)).toBeCloseTo(1, 9);
    expect(meanCosine(a, a.map((v) => -v), 2)).toBeCloseTo(-1, 9);
    expect(meanCosine(a, new Float32Array([0, 1, 0, 2]), 2)).toBeCloseTo(0.5, 9);
  });
});
