/**
 * TaskRes, task residual tuning (Yu et al., CVPR 2023; official code geekyutao/TaskRes, trainers/taskres.py and
 * configs/trainers/TaskRes/adam_lr2e-3_B256_ep{100,200}.yaml):
 *
 *   logits(f) = 100 · (f/‖f‖)·(P_c/‖P_c‖)ᵀ,  P = t + α · X
 *
 * t [C, E] the frozen zero-shot text features, X [C, E] the task residual, zero at the start; α 0.5 (1.0 for
 * Flowers in the paper's runs). Adam (lr 2e-3, ImageNet 2e-4; Dassl's weight decay 5e-4 as L2), batch 256,
 * 100 epochs up to 4 shots and 200 above (our reading of the two configs), one constant warm-up epoch at 1e-5
 * then cosine, stepped per epoch; one augmented view per image per epoch (the CoOp sampler). Last epoch kept.
 */
import { AdapterEpoch, minibatchEpochs, Adam, crossEntropy, drain, matmulT, matmulTN, normalizeRows, normalizeRowsBackward } from './cosine-head';
import { epochPlan, type Batch } from './sampler';
import type { TrainingSet } from './trainer';

export const TASKRES_DEFAULTS = Object.freeze({
  alpha: 0.5,
  /** The residual scale the official scripts pass for Oxford Flowers. */
  alphaFlowers: 1.0,
  lr: 2e-3,
  lrImageNet: 2e-4,
  weightDecay: 5e-4,
  batchSize: 256,
  warmupEpochs: 1,
  warmupLr: 1e-5,
  scale: 100,
});

/** 100 epochs up to 4 shots, 200 above. */
export function taskResEpochs(shots: number): number {
  return shots <= 4 ? 100 : 200;
}

/** α and lr for a dataset of CoOp's catalog (by its key, e.g. 'oxford_flowers', 'imagenet'). */
export function taskResSettings(dataset: string | null | undefined): { alpha: number; lr: number } {
  const d = (dataset ?? '').toLowerCase();
  return {
    alpha: d === 'oxford_flowers' || d === 'oxfordflowers' ? TASKRES_DEFAULTS.alphaFlowers : TASKRES_DEFAULTS.alpha,
    lr: d === 'imagenet' ? TASKRES_DEFAULTS.lrImageNet : TASKRES_DEFAULTS.lr,
  };
}

/** The classifier's rows P = t + α X. */
export function taskResPrototypes(text: ArrayLike<number>, residual: ArrayLike<number>, alpha: number): Float32Array {
  return Float32Array.from(text, (t, i) => t + alpha * residual[i]);
}

export function taskResLogits(features: ArrayLike<number>, text: ArrayLike<number>, residual: ArrayLike<number>, alpha: number, dim: number, scale: number = TASKRES_DEFAULTS.scale): Float32Array {
  const B = features.length / dim;
  const C = text.length / dim;
  const f = normalizeRows(features, B, dim).y;
  const p = normalizeRows(taskResPrototypes(text, residual, alpha), C, dim).y;
  return Float32Array.from(matmulT(f, p, B, C, dim), (x) => x * scale);
}

/** Cross-entropy on one batch and its gradient in the residual X (α · d loss / d P). */
export function taskResLossAndGrad(X: ArrayLike<number>, features: ArrayLike<number>, y: ArrayLike<number>, text: ArrayLike<number>, alpha: number, E: number, scale: number = TASKRES_DEFAULTS.scale): { loss: number; correct: number; grad: Float64Array } {
  const B = y.length;
  const C = text.length / E;
  const f = normalizeRows(features, B, E).y;
  const p = normalizeRows(Float64Array.from(text, (t, i) => t + alpha * X[i]), C, E);
  const ce = crossEntropy(matmulT(f, p.y, B, C, E).map((x) => x * scale), y, C);
  const gP = normalizeRowsBackward(matmulTN(ce.dlogits.map((x) => x * scale), f, B, C, E), p.y, p.norms, E);
  return { loss: ce.loss, correct: ce.correct, grad: gP.map((x) => x * alpha) };
}

export interface TaskResOptions extends TrainingSet {
  /** t [C, E]. */
  text: Float32Array;
  alpha?: number;
  lr?: number;
  epochs: number;
  batchSize?: number;
  scale?: number;
  seed?: number;
  plan?: (epoch: number) => Batch[];
}

export interface TaskResModel {
  residual: Float32Array;
  alpha: number;
  scale: number;
}

export function* taskRes(o: TaskResOptions): Generator<AdapterEpoch, TaskResModel, void> {
  const { nImages: N, nViews: V, dim: E, nClasses: C, text, epochs } = o;
  const alpha = o.alpha ?? TASKRES_DEFAULTS.alpha;
  const lr0 = o.lr ?? TASKRES_DEFAULTS.lr;
  const scale = o.scale ?? TASKRES_DEFAULTS.scale;
  const batchSize = o.batchSize ?? TASKRES_DEFAULTS.batchSize;
  if (text.length !== C * E) throw new RangeError(`TaskRes: ${text.length} text feature values, expected ${C}×${E}`);
  const plan = o.plan ?? ((epoch: number) => epochPlan({ nImages: N, nViews: V, batchSize, seed: o.seed ?? 1, epoch }));
  const X = new Float64Array(C * E);
  const opt = new Adam(TASKRES_DEFAULTS.weightDecay);
  yield* minibatchEpochs(o, { epochs, schedule: { lr: lr0, warmupEpochs: TASKRES_DEFAULTS.warmupEpochs, warmupLr: TASKRES_DEFAULTS.warmupLr }, plan }, (features, y, lr) => {
    const r = taskResLossAndGrad(X, features, y, text, alpha, E, scale);
    opt.step(X, r.grad, lr);
    return r;
  });
  return { residual: Float32Array.from(X), alpha, scale };
}

export function trainTaskRes(o: TaskResOptions, onEpoch?: (e: AdapterEpoch) => void): TaskResModel {
  return drain(taskRes(o), onEpoch);
}
