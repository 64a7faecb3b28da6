import { describe, expect, it } from 'vitest';
import { CLIP_MEAN, CLIP_STD, type PreprocessConfig } from '../../src/preprocess';
import { drawView, flipHorizontal, makeViews, randomResizedCropRect, renderView } from '../../src/coop/augment';
import { createRng, type Rng } from '../../src/coop/random';

const cfg = (size: number): PreprocessConfig => ({
  shortestEdge: size,
  cropWidth: size,
  cropHeight: size,
  mean: CLIP_MEAN as [number, number, number],
  std: CLIP_STD as [number, number, number],
});

/** A generator that always returns u: drives get_params to a known branch. */
const constant = (u: number): Rng => ({ next: () => u, uniform: (lo, hi) => lo + (hi - lo) * u, int: (n) => Math.floor(u * n), normal: () => 0 });

describe('random resized crop (torchvision semantics)', () => {
  it('stays inside the image with area 8–100% and aspect 3/4–4/3 (up to rounding)', () => {
    const rng = createRng(11);
    for (let i = 0; i < 2000; i++) {
      const r = randomResizedCropRect(200, 150, rng);
      expect(r.left).toBeGreaterThanOrEqual(0);
      expect(r.top).toBeGreaterThanOrEqual(0);
      expect(r.left + r.width).toBeLessThanOrEqual(200);
      expect(r.top + r.height).toBeLessThanOrEqual(150);
      const frac = (r.width * r.height) / (200 * 150);
      expect(frac).toBeGreaterThan(0.07);
      expect(frac).toBeLessThanOrEqual(1);
      expect(r.width / r.height).toBeGreaterThan(0.7);
      expect(r.width / r.height).toBeLessThan(1.42);
    }
  });

  it('hand-computed draw: u = 0.5 on a 100×100 image', () => {
    // target = 10000·0.54 = 5400; aspect = exp(0) = 1; w = h = round(73.48) = 73; top = left = floor(0.5·28) = 14
    expect(randomResizedCropRect(100, 100, constant(0.5))).toEqual({ left: 14, top: 14, width: 73, height: 73 });
  });

  it('falls back to torchvision\'s center crop after 10 failed tries', () => {
    // u → 1: target = whole area, aspect 4/3: w = round(sqrt(1000·4/3)) = 37 > … h = 27 > 10: fails every time.
    // Fallback: 100/10 > 4/3, so h = 10, w = round(10·4/3) = 13, left = (100 − 13) // 2 = 43.
    expect(randomResizedCropRect(100, 10, constant(0.999999))).toEqual({ left: 43, top: 0, width: 13, height: 10 });
    // A too-tall image: w = 10, h = round(10 / 0.75) = 13.
    expect(randomResizedCropRect(10, 100, constant(0.999999))).toEqual({ left: 0, top: 43, width: 10, height: 13 });
  });
});

describe('views', () => {
  // 4×4 RGBA whose red channel is the column index·50 and green the row·50; alpha is dropped.
  const w = 4, h = 4;
  const rgba = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) rgba.set([x * 50, y * 50, 7, 255], (y * w + x) * 4);
  const norm = (v: number, c: number) => Math.fround(Math.fround(Math.fround(v / 255) - Math.fround(CLIP_MEAN[c])) / Math.fround(CLIP_STD[c]));

  it('crops exactly, flips, and normalizes to NCHW', () => {
    const rect = { left: 1, top: 2, width: 2, height: 2 };
    const plain = renderView(rgba, w, { rect, flip: false }, cfg(2));
    // Red plane (columns 1, 2), then green plane (rows 2, 3), then blue.
    expect([...plain.subarray(0, 4)]).toEqual([50, 100, 50, 100].map((v) => norm(v, 0)));
    expect([...plain.subarray(4, 8)]).toEqual([100, 100, 150, 150].map((v) => norm(v, 1)));
    expect([...plain.subarray(8, 12)]).toEqual([7, 7, 7, 7].map((v) => norm(v, 2)));
    const flipped = renderView(rgba, w, { rect, flip: true }, cfg(2));
    expect([...flipped.subarray(0, 4)]).toEqual([100, 50, 100, 50].map((v) => norm(v, 0)));
  });

  it('resizes the crop straight to the input size', () => {
    const out = renderView(rgba, w, { rect: { left: 0, top: 0, width: 4, height: 2 }, flip: false }, cfg(8));
    expect(out.length).toBe(3 * 8 * 8);
    // The output's top-left green sample comes from the crop's first row, whose green is 0.
    expect(out[64]).toBeCloseTo(norm(0, 1), 1);
  });

  it('flipHorizontal mirrors rows', () => {
    const rgb = Uint8Array.of(1, 1, 1, 2, 2, 2, 3, 3, 3);
    expect([...flipHorizontal(rgb, 3, 1)]).toEqual([3, 3, 3, 2, 2, 2, 1, 1, 1]);
  });

  it('makeViews: nViews tensors, seeded, each view independent of how many are asked for', () => {
    const big = new Uint8Array(32 * 24 * 4).map((_, i) => (i * 37) % 251);
    const a = makeViews(big, 32, 24, 4, 9, cfg(16));
    expect(a).toHaveLength(4);
    a.forEach((v) => expect(v.length).toBe(3 * 16 * 16));
    expect(makeViews(big, 32, 24, 4, 9, cfg(16))).toEqual(a);
    expect(makeViews(big, 32, 24, 2, 9, cfg(16))).toEqual(a.slice(0, 2));
    expect(makeViews(big, 32, 24, 4, 10, cfg(16))[0]).not.toEqual(a[0]);
    expect(a[0]).not.toEqual(a[1]);
    expect(() => makeViews(big, 31, 24, 1, 9, cfg(16))).toThrow(/RGBA buffer/);
  });

  it('flips about half the time', () => {
    const rng = createRng(4);
    let flips = 0;
    for (let i = 0; i < 1000; i++) flips += drawView(50, 50, rng).flip ? 1 : 0;
    expect(flips).toBeGreaterThan(440);
    expect(flips).toBeLessThan(560);
  });
});
