/**
 * The one status line in plain words: where the image encoding and the training run, on how many threads, how
 * fast, and why the CPU when there is a GPU. It reads the choices the encoders' worker and the training worker
 * report (src/engine/choose-path.ts: the reason sentence, both probe rates) and leaves the internal names (EP,
 * twin, probe) to the details.
 */
import { formatRate, type PathChoice, type PathRate } from '../../engine/choose-path';

/** Why a path was taken, in a user's words; null when there is nothing to explain (the GPU, chosen on its merits). */
export function plainReason(choice: PathChoice | undefined): string | null {
  if (!choice) return null;
  const r = choice.reason;
  const asked = /as asked with ([^;]+)/.exec(r);
  if (asked) return `as asked (${asked[1]})`;
  if (choice.choice === 'gpu') return null;
  if (/software fallback adapter/.test(r)) return "this browser's GPU is a software one";
  if (/unavailable \(/.test(r)) return 'no usable GPU in this browser';
  if (/failed its probe/.test(r)) return 'the GPU failed its test run';
  if (/measured faster here/.test(r)) return 'faster than the GPU here';
  return null;
}

const rateText = (perSecond: number | undefined, unit: string, atMost = false) =>
  perSecond === undefined || !Number.isFinite(perSecond) || perSecond <= 0 ? null : `${formatRate({ perSecond, atMost })} ${unit}`;

function chosenRate(choice: PathChoice | undefined): PathRate | null {
  return choice ? (choice.rates[choice.choice] ?? null) : null;
}

export interface EncodingInfo {
  ep: 'webgpu' | 'wasm';
  choice?: PathChoice;
}

/**
 * "Encoding on the CPU, 4 threads: this browser's GPU is a software one · 270 images/s". `liveRate` (images/s of
 * the encoding under way) wins over the probe's rate.
 */
export function encodingWords(info: EncodingInfo | null, threads: number, liveRate?: number): string {
  if (!info) return 'Encoding: starting…';
  const where = info.ep === 'webgpu' ? 'on the GPU' : `on the CPU, ${threads} thread${threads === 1 ? '' : 's'}`;
  const why = plainReason(info.choice);
  const probe = chosenRate(info.choice);
  const rate = rateText(liveRate, 'images/s') ?? rateText(probe?.perSecond, 'images/s', probe?.atMost);
  return `Encoding ${where}${why ? `: ${why}` : ''}${rate ? ` · ${rate}` : ''}`;
}

export interface TrainingInfo {
  kind: 'webgpu' | 'cpu';
  detail: string;
  choice?: PathChoice;
  /** The CPU engine's threads, when the worker says so. */
  threads?: number;
}

/** The CPU engine's thread count: the worker's field when it sends one, else read from its detail sentence. */
export function trainingThreads(info: TrainingInfo): number | null {
  if (info.kind !== 'cpu') return null;
  if (info.threads && info.threads > 0) return info.threads;
  const m = /(\d+) threads/.exec(info.detail);
  if (m) return Number(m[1]);
  return /\(JavaScript\)/.test(info.detail) ? 1 : null;
}

/** "Training on the CPU, 2 threads: this browser's GPU is a software one · 10.6 steps/s". */
export function trainingWords(info: TrainingInfo | null, liveStepsPerSec?: number): string {
  if (!info) return 'Training: the faster of GPU and CPU is picked on the first Train';
  const threads = trainingThreads(info);
  const where = info.kind === 'webgpu' ? 'on the GPU' : `on the CPU${threads ? `, ${threads} thread${threads === 1 ? '' : 's'}` : ''}`;
  const why = plainReason(info.choice);
  const probe = chosenRate(info.choice);
  const rate = rateText(liveStepsPerSec, 'steps/s') ?? rateText(probe?.perSecond, 'steps/s', probe?.atMost);
  return `Training ${where}${why ? `: ${why}` : ''}${rate ? ` · ${rate}` : ''}`;
}

export { wasmThreads } from '../../encoders/ort-threads';
