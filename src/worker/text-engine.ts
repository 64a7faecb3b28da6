/**
 * What the training worker needs of a text engine: CoOp's loss and context gradient for a batch, and the learned
 * prompts' text features for evaluation. The WGSL engine (src/engine) and the CPU twin (cpu-text-engine.ts)
 * both provide it, so the worker's loop does not care which one runs.
 */
import type { PromptSpec } from '../engine/prompt';
import type { TextWeights } from '../engine/model/text-weights';

export interface TextStepResult {
  loss: number;
  /** [B, K] */
  logits: Float32Array;
  /** Same layout as the context: [M, D] or [K, M, D]. */
  gradCtx: Float32Array;
}

export type EngineKind = 'webgpu' | 'cpu';

export interface TextEngineLike {
  readonly kind: EngineKind;
  /** Shown in the UI next to the backend badge. */
  readonly detail: string;
  readonly weights: TextWeights;
  setPrompts(spec: PromptSpec): void;
  /** Must not modify `ctx`; `imageFeatures` are L2-normalized [B, E]. */
  step(ctx: Float32Array, imageFeatures: Float32Array, labels: Int32Array): Promise<TextStepResult>;
  /** L2-normalized [K, E] features of the current prompts with this context. */
  textFeatures(ctx: Float32Array): Promise<Float32Array>;
  dispose(): void;
}
