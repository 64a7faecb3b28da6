/**
 * Progress of a multi-file transfer: bytes per file and in total, the rate over the last seconds and an ETA.
 * Shared by the app's download dialog and `npm run models:fetch`.
 */

export interface FileProgress {
  path: string;
  loaded: number;
  /** 0 while unknown. */
  total: number;
  done: boolean;
}

export interface TransferSnapshot {
  files: FileProgress[];
  loaded: number;
  total: number;
  /** Bytes per second over the last few seconds; 0 until measured. */
  rate: number;
  /** Seconds left at that rate; null while unknown. */
  eta: number | null;
}

const WINDOW_MS = 5000;

export class TransferProgress {
  private readonly files = new Map<string, FileProgress>();
  private readonly samples: Array<{ t: number; bytes: number }> = [];
  /** Bytes that arrived in this session (not those already on disk from an earlier, interrupted try). */
  private moved = 0;

  constructor(private readonly now: () => number = () => performance.now()) {}

  expect(path: string, total: number, alreadyStored = 0): void {
    this.files.set(path, { path, total, loaded: alreadyStored, done: alreadyStored >= total && total > 0 });
  }

  add(path: string, delta: number): void {
    const f = this.files.get(path) ?? { path, total: 0, loaded: 0, done: false };
    f.loaded += delta;
    this.files.set(path, f);
    this.moved += delta;
    const t = this.now();
    this.samples.push({ t, bytes: this.moved });
    while (this.samples.length > 2 && t - this.samples[1].t > WINDOW_MS) this.samples.shift();
  }

  /** A resumed file whose server ignored Range starts over: its count goes back to 0. */
  restart(path: string): void {
    const f = this.files.get(path);
    if (f) f.loaded = 0;
  }

  finish(path: string): void {
    const f = this.files.get(path);
    if (f) f.done = true;
  }

  snapshot(): TransferSnapshot {
    const files = [...this.files.values()].map((f) => ({ ...f }));
    const loaded = files.reduce((s, f) => s + f.loaded, 0);
    const total = files.reduce((s, f) => s + f.total, 0);
    let rate = 0;
    if (this.samples.length >= 2) {
      const a = this.samples[0];
      const b = this.samples[this.samples.length - 1];
      // Under half a second of samples says more about chunking than about the link: no rate (and no ETA) yet.
      if (b.t - a.t >= 500) rate = ((b.bytes - a.bytes) * 1000) / (b.t - a.t);
    }
    const eta = rate > 0 && total > 0 ? Math.max(0, (total - loaded) / rate) : null;
    return { files, loaded, total, rate, eta };
  }
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function formatMB(bytes: number): string {
  return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
}
