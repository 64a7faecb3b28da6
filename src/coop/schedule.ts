/**
 * CoOp's learning-rate schedule: Dassl's ConstantWarmupScheduler wrapped around CosineAnnealingLR, stepped once
 * per epoch (tools/toy-clip/coop.py lr_at_epoch). During warmup the lr is the constant warmup_lr; afterwards epoch
 * e trains at the cosine's value at (e − warmup), over a period of max_epoch, so the cosine never quite reaches 0.
 */
import type { TrainSettings } from './settings';

/** The original's max_epoch per shot count (configs/trainers/CoOp/*_ep50/ep100/ep200); > 16 shots keeps 200. */
export function epochsForShots(shots: number): number {
  if (shots <= 1) return 50;
  if (shots <= 4) return 100;
  return 200;
}

/** Shots per class as coop.py counts them: training images // classes. */
export function shotsPerClass(nImages: number, nClasses: number): number {
  return Math.floor(nImages / nClasses);
}

export function resolveEpochs(settings: Pick<TrainSettings, 'epochs'>, nImages: number, nClasses: number): number {
  return settings.epochs === 'auto' ? epochsForShots(shotsPerClass(nImages, nClasses)) : settings.epochs;
}

/** lr for 0-based epoch `epoch` of `maxEpoch`. */
export function lrAtEpoch(
  epoch: number,
  maxEpoch: number,
  { lr, warmupEpochs, warmupLr }: Pick<TrainSettings, 'lr' | 'warmupEpochs' | 'warmupLr'>,
): number {
  if (epoch < warmupEpochs) return warmupLr;
  return 0.5 * lr * (1 + Math.cos((Math.PI * (epoch - warmupEpochs)) / maxEpoch));
}

/** The whole curve, for plotting before a run starts. */
export function lrCurve(maxEpoch: number, settings: Pick<TrainSettings, 'lr' | 'warmupEpochs' | 'warmupLr'>): number[] {
  return Array.from({ length: maxEpoch }, (_, e) => lrAtEpoch(e, maxEpoch, settings));
}
