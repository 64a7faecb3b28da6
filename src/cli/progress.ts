/**
 * Progress on stderr, so stdout stays clean for results: a rate and an ETA for every long job. On a terminal a task
 * rewrites one line; into a file (a log of a long sweep) it writes a line every few seconds.
 */

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export interface Task {
  advance(n?: number, extra?: string): void;
  done(extra?: string): void;
}

export class Progress {
  private readonly tty: boolean;
  constructor(
    private readonly out: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr,
    private readonly quiet = false,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tty = !!out.isTTY;
  }

  log(message: string): void {
    if (this.tty) this.out.write('\r\x1b[K');
    this.out.write(message + '\n');
  }

  task(label: string, total: number, unit: string): Task {
    const start = this.now();
    let done = 0;
    let lastPrint = -Infinity;
    const line = (extra = '') => {
      const el = this.now() - start;
      const rate = el > 0 ? (1000 * done) / el : 0;
      const eta = rate > 0 ? ((total - done) / rate) * 1000 : NaN;
      return `${label}: ${done}/${total} ${unit} ${rate >= 10 ? rate.toFixed(0) : rate.toFixed(2)} ${unit}/s, ${formatDuration(el)} elapsed, ETA ${formatDuration(eta)}${extra ? `; ${extra}` : ''}`;
    };
    return {
      advance: (n = 1, extra = '') => {
        done += n;
        if (this.quiet) return;
        const t = this.now();
        if (t - lastPrint < (this.tty ? 200 : 5000) && done < total) return;
        lastPrint = t;
        if (this.tty) this.out.write('\r\x1b[K' + line(extra));
        else this.out.write(line(extra) + '\n');
      },
      done: (extra = '') => {
        if (this.quiet) return;
        const el = this.now() - start;
        const msg = `${label}: ${done} ${unit} in ${formatDuration(el)}${extra ? `; ${extra}` : ''}`;
        if (this.tty) this.out.write('\r\x1b[K' + msg + '\n');
        else this.out.write(msg + '\n');
      },
    };
  }
}
