/**
 * The optimizer over every tensor a run trains: the context first, then each of the context's extras
 * (context-init.ts NamedParam) in their order. PyTorch keeps an optimizer's state per parameter (SGD's momentum
 * buffer; Adam's step count and two moments), so this holds one state per tensor and steps each tensor on its own;
 * a tensor's `lrScale` multiplies its lr as a parameter group with its own lr does (DePT's head).
 *
 * SGD is CoOp's optimizer (sgd.ts); Adam is Dassl's "adam" (adam.ts), TCP's. Which one is a run setting
 * (settings.ts `optimizer`); an absent value (settings saved before there was a choice) is SGD.
 */
import { adamStep, cloneAdamState, createAdamState, type AdamState } from './adam';
import { cloneSgdState, createSgdState, sgdStep, type SgdState } from './sgd';
import type { OptimizerName, TrainSettings } from './settings';

export { OPTIMIZERS, type OptimizerName } from './settings';

export type OptimizerState = { kind: 'sgd'; tensors: SgdState[] } | { kind: 'adam'; tensors: AdamState[] };

/** The run's optimizer: 'adam' only when asked for by name, so older settings without the field train with SGD. */
export function optimizerOf(settings: Partial<Pick<TrainSettings, 'optimizer'>>): OptimizerName {
  return settings.optimizer === 'adam' ? 'adam' : 'sgd';
}

export function createOptimizerState(kind: OptimizerName, nTensors: number): OptimizerState {
  return kind === 'adam'
    ? { kind, tensors: Array.from({ length: nTensors }, createAdamState) }
    : { kind, tensors: Array.from({ length: nTensors }, createSgdState) };
}

export function cloneOptimizerState(s: OptimizerState): OptimizerState {
  return s.kind === 'adam' ? { kind: 'adam', tensors: s.tensors.map(cloneAdamState) } : { kind: 'sgd', tensors: s.tensors.map(cloneSgdState) };
}

/** One update of tensor `i` (0: the context; 1 + j: extra j) in place, at `lr` (already scaled for the tensor). */
export function optimizerStep(
  s: OptimizerState,
  i: number,
  params: Float32Array,
  grad: ArrayLike<number>,
  lr: number,
  settings: Pick<TrainSettings, 'momentum' | 'weightDecay'>,
): void {
  if (s.kind === 'adam') adamStep(params, grad, s.tensors[i], lr, { weightDecay: settings.weightDecay });
  else sgdStep(params, grad, s.tensors[i], lr, settings);
}
