/**
 * What the training worker needs of a text engine: CoOp's loss and context gradient for a batch, and the learned
 * prompts' text features for evaluation. The WGSL engine (src/engine) and the CPU twin (cpu-text-engine.ts)
 * both provide it, so the worker's loop does not care which one runs.
 */
import type { PathChoice } from '../engine/choose-path';
import type { PromptSpec } from '../engine/prompt';
import type { TextWeights } from '../engine/model/text-weights';
import type { SecondTextGrad, TextFeatureGrad } from '../engine/text-engine';
import type { TowerStepInput, TowerStepResult } from '../engine/tower';

export interface TextStepResult {
  loss: number;
  /** [B, K] */
  logits: Float32Array;
  /** Same layout as the context: [M, D] or [K, M, D]. */
  gradCtx: Float32Array;
  /** Normalized [K, E] text features of the step, returned when it had a textGrad. */
  textFeatures?: Float32Array;
  /** d / d ctx of the second upstream gradient, when the step had a secondGrad. */
  gradCtx2?: Float32Array;
}

export type EngineKind = 'webgpu' | 'cpu';

/** Bytes of GPU buffers, from the engine's byte-counting allocator (src/engine/gpu/allocator.ts). */
export interface GpuMemory {
  liveBytes: number;
  peakBytes: number;
}

export interface TextEngineLike {
  readonly kind: EngineKind;
  /** Shown in the UI next to the backend badge. */
  readonly detail: string;
  /** Threads a step runs on (the CPU engine's; absent on the GPU engine). */
  readonly threads?: number;
  /** How the engine was chosen: both engines' probe rates and the reason (src/engine/choose-path.ts). */
  choice?: PathChoice;
  readonly weights: TextWeights;
  setPrompts(spec: PromptSpec): void;
  /**
   * Must not modify `ctx`; `imageFeatures` are L2-normalized [B, E]. `textGrad` is a method's term on the normalized
   * text features (KgCoOp, ProGrad: src/coop/prompt-methods.ts), joining the same backward.
   */
  step(ctx: Float32Array, imageFeatures: Float32Array, labels: Int32Array, textGrad?: TextFeatureGrad, secondGrad?: SecondTextGrad): Promise<TextStepResult>;
  /**
   * The successors' step (src/engine/tower.ts) on the current prompts: R = repeat × K rows with a shared, per-class or
   * per-row context, deep tokens between blocks, and a host loss on the rows' normalized features (or forward only).
   */
  towerStep(input: TowerStepInput): Promise<TowerStepResult>;
  /** L2-normalized [K, E] features of the current prompts with this context. */
  textFeatures(ctx: Float32Array): Promise<Float32Array>;
  /**
   * Whether a failure just seen came from losing the device. A GPU call can fail (e.g. mapAsync) a moment before
   * the device's `lost` promise settles, so the GPU engine waits briefly for it. Absent on engines that cannot lose one.
   */
  isLost?(): Promise<boolean>;
  /**
   * Unnormalized text features of whole token rows (hand-written prompts, the load-time proof), [rows, E], by this
   * engine's own forward: the WGSL engine's on the GPU, the CPU twin's (with its matmul workers) otherwise.
   */
  encodeTokens(ids: Int32Array, rows: number): Promise<Float32Array>;
  /** GPU buffers the engine holds now and at their peak (weights, activations, readback); absent on the CPU twin. */
  gpuMemory?(): GpuMemory;
  dispose(): void;
}
