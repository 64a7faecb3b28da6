/**
 * The one rule that picks the faster of two paths, a GPU one and a CPU one, by measurement: for the image tower
 * (ORT's WebGPU EP or WASM EP, in the page), for the text engine (the WGSL engine or the CPU twin, in the training
 * worker) and for the command line's `--engine auto`. Callers time a short probe on each path with `timeProbe`
 * and hand both results to `choosePath`, which returns the choice, the reason in words and both rates.
 *
 * Why measure: WebGPU is not always the fast path. A software adapter (SwiftShader, WARP, llvmpipe) runs WGSL on
 * the same CPU cores, far slower than code written for the CPU: on the development box the WebGPU EP encodes
 * ~2 images/s against the WASM EP's 38-270, and the WGSL engine takes ~0.2 steps/s against the CPU twin's ~6.
 */

export type PathName = 'gpu' | 'cpu';

/** One path's probe: `perSecond` items (images, steps) per second, or why there is no rate. */
export interface PathRate {
  /** Items per second; absent when the path could not run. */
  perSecond?: number;
  /** The probe was stopped at its time limit: the real rate is at most `perSecond`. */
  atMost?: boolean;
  /** Wall-clock milliseconds of the timed part of the probe. */
  ms?: number;
  /** Why the path has no rate (unavailable, failed, not probed). */
  note?: string;
}

export interface ChooseInput {
  /** What the two paths are called in the reason, e.g. { gpu: 'WebGPU EP', cpu: 'WASM EP' }. */
  labels: Record<PathName, string>;
  /** Unit of the rates, e.g. 'images/s' or 'steps/s'. */
  unit: string;
  /** What one probe runs, for the reason, e.g. 'one step of 10 classes, batch 32'. */
  probe?: string;
  /** A path asked for by the user (`?ep=`, `?engine=`, `--engine`): taken whatever the probes say. */
  forced?: { path: PathName; by: string };
  /** Why the GPU path cannot be used at all (no WebGPU, no adapter, a failed self-check). */
  gpuUnavailable?: string;
  /** The adapter is a software fallback adapter (GPUAdapterInfo.isFallbackAdapter). */
  fallbackAdapter?: boolean;
  /** The adapter's name, for the reason. */
  adapter?: string;
  rates: Partial<Record<PathName, PathRate>>;
}

export interface PathChoice {
  choice: PathName;
  /** One sentence: why this path. */
  reason: string;
  rates: Record<PathName, PathRate | null>;
  labels: Record<PathName, string>;
  unit: string;
  /** Short text for a badge, e.g. "WASM EP 270 images/s (WebGPU EP ≤ 2.1)". */
  summary: string;
}

/** A rate for display: 3 significant digits, "≤" when the probe was cut short. */
export function formatRate(r: PathRate | null | undefined): string {
  if (!r || r.perSecond === undefined) return r?.note ? `— (${r.note})` : '—';
  const v = r.perSecond;
  const s = v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toPrecision(2);
  return `${r.atMost ? '≤ ' : ''}${s}`;
}

/**
 * The rule. In order: a forced path is taken; a GPU path that cannot run gives the CPU; a fallback (software)
 * adapter gives the CPU; otherwise the higher measured rate wins, and the GPU when the CPU has no rate (the
 * GPU is the path the app is built for; the CPU probe failing says nothing about it).
 */
export function choosePath(input: ChooseInput): PathChoice {
  const gpu = input.rates.gpu ?? null;
  const cpu = input.rates.cpu ?? null;
  const { labels, unit } = input;
  const both = `${labels.gpu} ${formatRate(gpu)}, ${labels.cpu} ${formatRate(cpu)} ${unit}${input.probe ? ` (${input.probe})` : ''}`;
  const make = (choice: PathName, reason: string): PathChoice => {
    const other: PathName = choice === 'gpu' ? 'cpu' : 'gpu';
    const mine = choice === 'gpu' ? gpu : cpu;
    const theirs = choice === 'gpu' ? cpu : gpu;
    const own = mine?.perSecond !== undefined ? `${labels[choice]} ${formatRate(mine)} ${unit}` : input.forced ? `${labels[choice]} (${input.forced.by})` : labels[choice];
    const summary = own + (theirs ? ` (${labels[other]} ${theirs.perSecond !== undefined ? formatRate(theirs) : 'not measured'})` : '');
    return { choice, reason, rates: { gpu, cpu }, labels, unit, summary };
  };
  const where = input.adapter ? ` (${input.adapter})` : '';
  if (input.forced) return make(input.forced.path, `${labels[input.forced.path]}, as asked with ${input.forced.by}; probes: ${both}`);
  if (input.gpuUnavailable) return make('cpu', `${labels.cpu}: ${labels.gpu} unavailable (${input.gpuUnavailable})`);
  if (input.fallbackAdapter) {
    return make('cpu', `${labels.cpu}: the WebGPU adapter${where} is a software fallback adapter, which runs on the CPU cores; probes: ${both}`);
  }
  const g = gpu?.perSecond;
  const c = cpu?.perSecond;
  if (g === undefined && c === undefined) return make('gpu', `${labels.gpu}: neither probe gave a rate (${labels.gpu}: ${gpu?.note ?? 'not run'}; ${labels.cpu}: ${cpu?.note ?? 'not run'})`);
  if (g === undefined) return make('cpu', `${labels.cpu}: ${labels.gpu} failed its probe (${gpu?.note ?? 'no rate'})`);
  if (c === undefined) return make('gpu', `${labels.gpu}: ${labels.cpu} gave no rate (${cpu?.note ?? 'not run'})`);
  if (c > g) return make('cpu', `${labels.cpu} measured faster here${where}: ${both}`);
  return make('gpu', `${labels.gpu} measured faster here${where}: ${both}`);
}

export interface ProbeOptions {
  /** Items one timed run processes (images in the batch, 1 for a step). */
  items: number;
  /** Untimed runs first (pipeline compilation, first-run allocation). Default 1. */
  warmups?: number;
  /**
   * Stop waiting after this many ms (warm-up and timed run together): the rate becomes an upper bound. The work
   * itself cannot be cancelled; `settled` resolves when it is done, so its resources can be freed then.
   */
  capMs?: number;
  now?: () => number;
}

export interface ProbeResult extends PathRate {
  /** Resolves once every run the probe started has finished (or failed). */
  settled: Promise<void>;
}

/** Times `run` (after `warmups` untimed runs) and turns it into a rate; never throws (a failure becomes `note`). */
export async function timeProbe(run: () => Promise<unknown>, options: ProbeOptions): Promise<ProbeResult> {
  const now = options.now ?? (() => performance.now());
  const warmups = options.warmups ?? 1;
  const t0 = now();
  let timedStart = t0;
  const work = (async () => {
    for (let i = 0; i < warmups; i++) await run();
    timedStart = now();
    await run();
    return now() - timedStart;
  })();
  const settled = work.then(
    () => undefined,
    () => undefined,
  );
  const cap = options.capMs;
  type Outcome = { ms: number } | { error: unknown } | { timeout: true };
  const outcome = await Promise.race<Outcome>([
    work.then(
      (ms) => ({ ms }),
      (error) => ({ error }),
    ),
    ...(cap === undefined ? [] : [new Promise<Outcome>((r) => setTimeout(() => r({ timeout: true }), cap))]),
  ]);
  if ('ms' in outcome) return { perSecond: (options.items * 1000) / Math.max(outcome.ms, 1e-3), ms: outcome.ms, settled };
  if ('error' in outcome) {
    const e = outcome.error;
    return { note: `failed: ${e instanceof Error ? e.message : String(e)}`, settled };
  }
  // Cut at the cap: however far it got, one more item would take longer than what is left, so items / elapsed
  // bounds the rate from above (the timed run, or the warm-up still running, has not finished).
  const elapsed = now() - (timedStart > t0 ? timedStart : t0);
  return { perSecond: (options.items * 1000) / Math.max(elapsed, 1e-3), atMost: true, ms: elapsed, note: `stopped after ${(cap! / 1000).toFixed(1)} s`, settled };
}

/** The `?ep=` / `?engine=` style URL value as a forced path, or undefined for automatic. */
export function forcedPath(value: string | null | undefined): PathName | undefined {
  if (!value) return undefined;
  const v = value.toLowerCase();
  if (v === 'cpu' || v === 'wasm' || v === 'reference') return 'cpu';
  if (v === 'gpu' || v === 'webgpu' || v === 'wgsl') return 'gpu';
  return undefined;
}
