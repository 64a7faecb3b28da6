/**
 * Messages between the Train page and the training worker.
 *
 * The page computes every image feature (through the encoders' worker, which owns the image tower) and sends them; the worker
 * owns the text side: the text weights, the engine (WGSL on its own GPUDevice, or the CPU twin), the CoOp trainer
 * and the learned context. Page → worker messages are structured-cloned (the page keeps its features for the
 * predict panel); worker → page messages transfer their buffers, which the worker never reads again.
 */
import type { PathChoice } from '../engine/choose-path';
import type { ContextVectors } from '../coop/context-init';
import type { TrainSettings } from '../coop/settings';
import type { TrainEvent, TrainerCheckpoint } from '../coop/trainer';
import type { PromptMethod } from '../coop/prompt-methods';
import type { Successor } from '../coop/prompt-learner';
import type { MethodSettings } from '../coop/method-settings';
import type { ClassSplit } from '../coop/base-to-new';
import type { ClassTokenPosition } from '../engine/prompt';
import type { EngineKind, GpuMemory } from './text-engine';
import type { ProofPrompt } from '../engine/load-proof';
import type { StoredModelMeta } from '../models/sources/browser-store';

/** A labelled set of L2-normalized features [N, E], evaluated after every epoch. */
export interface EvalSet {
  name: string;
  features: Float32Array;
  labels: Int32Array;
}

export type { ProofPrompt };

export interface PromptTokens {
  /** Per class "X … X name." tokenized to the context length: [K, T] row-major. */
  ids: Int32Array;
  contextLength: number;
  /** BPE tokens of each class name. */
  nameLens: number[];
}

export interface SetupRequest {
  type: 'setup';
  settings: TrainSettings;
  position: ClassTokenPosition;
  prompts: PromptTokens;
  /** Token ids of the init phrase (word init only), without SOS/EOS. */
  initWordIds: number[] | null;
  /** Start from this context instead of a fresh init (an imported prompt). */
  context: ContextVectors | null;
  /** [N, V, E] augmented views, normalized. */
  viewFeatures: Float32Array;
  nViews: number;
  labels: Int32Array;
  nClasses: number;
  /** Clean (center-crop) features of the training images, for the train accuracy. */
  trainFeatures: Float32Array;
  evalSets: EvalSet[];
  /** Only score `context` (an imported prompt); no trainer is built and the view features may be empty. */
  evalOnly?: boolean;
  /**
   * The prompt-learning method (CoOp when absent) and, for KgCoOp and ProGrad, the hand-written prompts'
   * normalized text features [K, E] ("a photo of a {}."): KgCoOp's anchors, ProGrad's zero-shot teacher.
   */
  method?: {
    name: PromptMethod | Successor;
    settings: MethodSettings;
    handWritten: Float32Array | null;
    /** Base-to-new with TCP: the new classes' hand-written prompt features [K_new, E] (their class tokens' input). */
    handWrittenNew?: Float32Array | null;
  };
  /** Continue a run from its checkpoint (after a reload): same settings and data, so the same result. */
  resume?: TrainerCheckpoint | null;
  /**
   * Base-to-new (src/coop/base-to-new.ts): `prompts`, `labels` and `nClasses` are then the base classes', the eval
   * sets keep labels over all classes, and each is scored per part (`${set}/base` among the base classes with the
   * learned context, `${set}/new` among the new classes with the same unified context and `newPrompts`).
   */
  baseToNew?: { split: ClassSplit; newPrompts: PromptTokens };
}

export type WorkerRequest =
  | {
      type: 'init';
      /** A bundled model's text file; empty when `textStored` is given. */
      textModelUrl: string;
      /** A stored model's text file, read from the browser store (OPFS) by the worker itself. */
      textStored?: { meta: StoredModelMeta; path: string };
      config: unknown;
      logitScale: number;
      preferGpu: boolean;
      /** 'auto' (default): probe both engines and keep the faster; 'cpu' / 'webgpu' force one (the URL's ?engine=). */
      engine?: string;
      /** ORT's text_embeds for a few real prompts: the engine must reproduce them before it is used (load-time proof). */
      proof?: ProofPrompt[];
      /** Threads for the CPU twin's matmuls (the URL's ?threads=); by default the worker picks from the cores. */
      threads?: number;
    }
  | SetupRequest
  | { type: 'train' }
  | { type: 'stop' }
  | { type: 'reset' }
  | { type: 'nearest'; k: number }
  | { type: 'linear-probe'; features: Float32Array; labels: Int32Array; nClasses: number; evalSets: EvalSet[] }
  /** Tip-Adapter or Tip-Adapter-F on the set-up training views (image features only), with zero-shot text [K, E]. */
  | { type: 'adapter'; method: 'tip' | 'tip-f'; zeroShotText: Float32Array };

export interface Snapshot {
  context: ContextVectors;
  /** [K, E] learned prompts' text features, normalized. */
  textFeatures: Float32Array;
  /** Predicted class per image of each evaluated split ('train' and every eval set). */
  predictions: Record<string, Int32Array>;
  accuracies: Record<string, number>;
  /** Completed epochs and steps when taken. */
  epoch: number;
  step: number;
  /** The trainer's state at this point (null for an evaluation-only setup): what Resume after a reload starts from. */
  checkpoint: TrainerCheckpoint | null;
  /** The WGSL engine's GPU buffers when taken (null on the CPU twin): the peak covers every step so far. */
  gpuMemory?: GpuMemory | null;
}

/** What a Tip-Adapter(-F) run gives the page: accuracies per split, per-epoch curve (-F), α/β and its time. */
export interface AdapterResult {
  method: 'tip' | 'tip-f';
  accuracies: Record<string, number>;
  /** Tip-Adapter-F: per epoch, its mean training loss and the accuracies per split. */
  epochs: Array<{ epoch: number; loss: number; accuracies: Record<string, number> }>;
  alpha: number;
  beta: number;
  /** Whether α and β were searched on a 'val' split (else the official defaults). */
  searched: boolean;
  ms: number;
}

export type WorkerReply =
  | { type: 'ready'; engine: EngineKind; detail: string; choice?: PathChoice; /** CPU engine threads (1 on the GPU engine). */ threads?: number }
  | { type: 'setup-done'; nCtx: number; csc: boolean; maxEpochs: number; stepsPerEpoch: number; note: string | null }
  | { type: 'event'; event: TrainEvent }
  | { type: 'snapshot'; snapshot: Snapshot }
  | {
      type: 'nearest';
      sets: number;
      nCtx: number;
      k: number;
      ids: Int32Array;
      distances: Float32Array;
      /** Deep prompts: each block's own tokens' neighbours, [M, k] per block (ids and distances as above). */
      blocks?: Array<{ block: number; nCtx: number; ids: Int32Array; distances: Float32Array }>;
    }
  | { type: 'linear-probe'; accuracies: Record<string, number>; lambda: number }
  | { type: 'adapter'; result: AdapterResult }
  /** `during` names the request that failed; `deviceLost` when the GPU went away (the context is kept). */
  | { type: 'error'; during: WorkerRequest['type'] | 'worker'; message: string; deviceLost?: boolean };

/**
 * The distinct ArrayBuffers under a message, for postMessage's transfer list. A buffer is listed once however
 * many views share it (a repeated buffer makes postMessage throw), and shared memory is never listed.
 */
export function transferablesOf(value: unknown): ArrayBuffer[] {
  const found = new Set<ArrayBuffer>();
  const seen = new Set<object>();
  const walk = (v: unknown) => {
    if (v === null || typeof v !== 'object' || seen.has(v)) return;
    seen.add(v);
    if (ArrayBuffer.isView(v)) {
      if (v.buffer instanceof ArrayBuffer) found.add(v.buffer);
      return;
    }
    if (v instanceof ArrayBuffer) {
      found.add(v);
      return;
    }
    for (const x of Array.isArray(v) ? v : Object.values(v)) walk(x);
  };
  walk(value);
  return [...found];
}

/**
 * Copies every typed array in `value` that is a view into a larger buffer, so that transferring it does not
 * detach (or ship) memory the view does not own.
 */
export function compactViews<T>(value: T): T {
  const copy = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object') return v;
    if (ArrayBuffer.isView(v)) {
      const a = v as unknown as Float32Array;
      return a.byteOffset === 0 && a.byteLength === a.buffer.byteLength ? a : a.slice();
    }
    if (Array.isArray(v)) return v.map(copy);
    if (Object.getPrototypeOf(v) !== Object.prototype) return v;
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, copy(x)]));
  };
  return copy(value) as T;
}

/** Readable message of anything thrown. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  if (typeof e === 'string') return e;
  try {
    return JSON.stringify(e);
  } catch {
    return String(e);
  }
}
