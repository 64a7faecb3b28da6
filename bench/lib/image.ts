/**
 * Images per second through an image tower. The pixels are random: the tower's cost does
 * not depend on them, and preprocessing is a separate concern.
 */
import { median, now } from './timing';

export type EncodeBatch = (pixels: Float32Array, count: number) => Promise<unknown>;

/**
 * One untimed run (session warm-up, shader compilation) unless `warmup` is false, then up to
 * `reps` timed runs within `maxMs`. Without a warm-up the first run is timed: worth it only
 * where a run is long enough (software adapters) for compilation not to matter.
 */
export async function imagesPerSecond(
  encode: EncodeBatch,
  pixelsPerImage: number,
  batch: number,
  reps: number,
  maxMs: number,
  warmup = true,
): Promise<number> {
  const pixels = new Float32Array(batch * pixelsPerImage);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.sin(i * 0.7) * 1.5;
  if (warmup) await encode(pixels, batch);
  const times: number[] = [];
  const start = now();
  for (let r = 0; r < reps; r++) {
    const t0 = now();
    await encode(pixels, batch);
    times.push(now() - t0);
    if (now() - start > maxMs) break;
  }
  return batch / (median(times) / 1000);
}

/** Batch 1 then batch 32; batch 32's warm-up is skipped when batch 1 says one run takes over 10 s. */
export async function batch1And32(encode: EncodeBatch, pixelsPerImage: number, reps: number): Promise<{ b1: number; b32: number; note?: string }> {
  const b1 = await imagesPerSecond(encode, pixelsPerImage, 1, Math.max(5, reps), 3000);
  const long = 32 / b1 > 10;
  const b32 = await imagesPerSecond(encode, pixelsPerImage, 32, reps, 5000, !long);
  return { b1, b32, note: long ? 'batch 32: first run timed (no warm-up)' : undefined };
}
