/**
 * Images per second through an image tower. The pixels are random: the tower's cost does
 * not depend on them, and preprocessing is a separate concern.
 */
import { median, now } from './timing';

export type EncodeBatch = (pixels: Float32Array, count: number) => Promise<unknown>;

/** One untimed run (session warm-up, shader compilation), then up to `reps` timed runs within `maxMs`. */
export async function imagesPerSecond(encode: EncodeBatch, pixelsPerImage: number, batch: number, reps: number, maxMs: number): Promise<number> {
  const pixels = new Float32Array(batch * pixelsPerImage);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.sin(i * 0.7) * 1.5;
  await encode(pixels, batch);
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
