/** Everything a person can change about a CoOp run, with the original's defaults (configs/trainers/CoOp). */

import type { ClassTokenPosition } from '../engine/prompt';

export type { ClassTokenPosition };
export type ContextInit = 'random' | 'words';

/** CoOp trains with SGD; TCP with Dassl's "adam" (param-optimizer.ts). */
export const OPTIMIZERS = ['sgd', 'adam'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

export interface TrainSettings {
  /** M, the number of context vectors (ignored with word init: the init phrase's token count wins). */
  nCtx: number;
  /** Class-specific context: each class learns its own M vectors. */
  csc: boolean;
  position: ClassTokenPosition;
  init: ContextInit;
  initWords: string;
  /**
   * Absent means CoOp's SGD (read it with param-optimizer.ts optimizerOf): the defaults leave it out, so settings
   * saved before there was a choice, and every SGD run's, are the same objects as before.
   */
  optimizer?: OptimizerName;
  lr: number;
  /** SGD's momentum; Adam uses its own betas (adam.ts). */
  momentum: number;
  weightDecay: number;
  batchSize: number;
  warmupEpochs: number;
  warmupLr: number;
  /** 'auto' picks by shots per class (schedule.ts epochsForShots). */
  epochs: number | 'auto';
  /** Augmented views encoded per training image; one is drawn per image per epoch. */
  views: number;
  seed: number;
}

export const DEFAULT_TRAIN_SETTINGS: Readonly<TrainSettings> = Object.freeze({
  nCtx: 16,
  csc: false,
  position: 'end',
  init: 'random',
  initWords: 'a photo of a',
  lr: 0.002,
  momentum: 0.9,
  weightDecay: 5e-4,
  batchSize: 32,
  warmupEpochs: 1,
  warmupLr: 1e-5,
  epochs: 'auto',
  views: 8,
  seed: 1,
});

export function withDefaults(partial: Partial<TrainSettings> = {}): TrainSettings {
  return { ...DEFAULT_TRAIN_SETTINGS, ...partial };
}
