/** What the live view draws, folded from the trainer's events by a pure reducer. */
import type { TrainEvent } from '../../coop/trainer';

export type RunStatus = 'idle' | 'preparing' | 'ready' | 'running' | 'stopping' | 'stopped' | 'done' | 'failed';

export interface LossPoint {
  step: number;
  loss: number;
  epoch: number;
  lr: number;
}

/** Accuracies in percent per split ('train', 'test', 'shifted', …) after a 1-based epoch. */
export interface EpochPoint {
  epoch: number;
  [split: string]: number;
}

export interface RunProgress {
  epoch: number;
  step: number;
  stepInEpoch: number;
  stepsPerEpoch: number;
  totalSteps: number;
  lr: number;
  elapsedMs: number;
  stepsPerSec: number;
}

export interface History {
  status: RunStatus;
  loss: LossPoint[];
  epochs: EpochPoint[];
  progress: RunProgress | null;
  /** The last failure (NaN loss, lost device), shown until the next run. */
  error: string | null;
}

export const EMPTY_HISTORY: History = { status: 'idle', loss: [], epochs: [], progress: null, error: null };

const pct = (x: number) => Math.round(1e4 * x) / 100;

export function applyEvent(h: History, e: TrainEvent): History {
  switch (e.type) {
    case 'step':
      return {
        ...h,
        status: h.status === 'stopping' ? 'stopping' : 'running',
        error: null,
        loss: [...h.loss, { step: e.step, loss: e.loss, epoch: e.epoch, lr: e.lr }],
        progress: {
          epoch: e.epoch,
          step: e.step,
          stepInEpoch: e.stepInEpoch,
          stepsPerEpoch: e.stepsPerEpoch,
          totalSteps: e.totalSteps,
          lr: e.lr,
          elapsedMs: e.elapsedMs,
          stepsPerSec: e.stepsPerSec,
        },
      };
    case 'epoch': {
      const point: EpochPoint = { epoch: e.epoch };
      for (const [split, acc] of Object.entries(e.metrics)) {
        if (typeof acc !== 'number' || !Number.isFinite(acc)) continue;
        const name = split === 'trainAcc' ? 'train' : split === 'testAcc' ? 'test' : split;
        point[name] = pct(acc);
      }
      // A resumed epoch replaces its earlier point rather than drawing two.
      const epochs = [...h.epochs.filter((p) => p.epoch !== e.epoch), point];
      return { ...h, epochs, progress: h.progress ? { ...h.progress, elapsedMs: e.elapsedMs } : h.progress };
    }
    case 'stopped':
      return { ...h, status: 'stopped' };
    case 'done':
      return { ...h, status: 'done', progress: h.progress ? { ...h.progress, elapsedMs: e.elapsedMs } : h.progress };
    case 'error':
      return { ...h, status: 'failed', error: e.message };
  }
}

/** After a NaN recovery the trainer rewinds to the last good step: drop the points it will redo. */
export function truncateTo(h: History, step: number): History {
  return { ...h, loss: h.loss.filter((p) => p.step <= step) };
}
