/**
 * Wall-clock timing of GPU work: from encoding to the queue reporting completion. This
 * includes encoding and submission overhead, which is real cost for a training step made
 * of hundreds of small dispatches, and needs no timestamp-query feature (SwiftShader and
 * many browsers lack it).
 */
export function now(): number {
  return performance.now();
}

export async function timeGpu(device: GPUDevice, work: () => unknown | Promise<unknown>): Promise<number> {
  const t0 = now();
  await work();
  await device.queue.onSubmittedWorkDone();
  return now() - t0;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** Seconds left of a deadline, for skipping work that would not fit. */
export class Budget {
  private readonly end: number;
  constructor(seconds: number) {
    this.end = now() + seconds * 1000;
  }
  get leftMs(): number {
    return this.end - now();
  }
}

export type Log = (line: string) => void;
