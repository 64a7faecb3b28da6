/**
 * The text engine's memory and work plan, computed before anything is allocated.
 *
 * Activation memory is bounded by processing classes in chunks: a step first runs every
 * chunk forward to its text feature (the loss needs all K features before any backward),
 * then, per chunk, recomputes that chunk's forward with activations saved and runs its
 * backward. Only one chunk's activations exist at a time. The chunk that ran forward last
 * still holds its activations, so it goes first in backward and is not recomputed; with a
 * single chunk nothing is. The shared prefix runs once; its key/value gradients accumulate
 * over all chunks before the prefix's own backward.
 *
 * The engine allocates exactly the buffers listed here (through the byte-counting allocator),
 * so the plan's bytes are the engine's bytes. planStep needs no device.
 */
import { attentionScratchFloats } from './ops/attention/gpu';
import type { ClassTokenPosition } from './prompt';

export interface ModelShape {
  /** hidden size */
  D: number;
  /** layers */
  L: number;
  /** attention heads */
  H: number;
  /** vocabulary */
  V: number;
  /** projection (text_embeds) width */
  E: number;
  /** context length (max positions, 77) */
  P: number;
  /** MLP width, 4·D in CLIP */
  F?: number;
}

export type EngineMode = 'naive' | 'fast';

export type BufferGroup = 'weights' | 'step' | 'prefix' | 'chunk' | 'readback';

export interface PlannedBuffer {
  name: string;
  bytes: number;
  group: BufferGroup;
}

/** Storage sizes are rounded as the allocator rounds them. */
export function bufferBytes(floats: number): number {
  return Math.max(4, Math.ceil(floats) * 4);
}

/** One run of B sequences of S positions through the transformer, attending to a P-long prefix. */
export interface WorkspaceShape {
  B: number;
  S: number;
  /** Prefix the attention sees (0: none). */
  P: number;
  /** Head (EOS gather, final LN, projection) buffers: only the class chunks have them. */
  head: boolean;
  /** d ctx for one CSC chunk [B·M·D], else 0. */
  chunkCtxFloats?: number;
}

/**
 * The activations a workspace keeps for backward (per layer: input, q, k, v, attention output,
 * post-attention residual, fc1 output, LN statistics) and its scratch. Backward reuses forward's
 * scratch: h holds LN outputs then their gradients, t linear outputs then dO, g the activation
 * then its gradient.
 */
export function workspaceBuffers(shape: ModelShape, w: WorkspaceShape, prefix: string): PlannedBuffer[] {
  const { D, L, H, E } = shape;
  const F = shape.F ?? 4 * D;
  const rows = w.B * w.S;
  const out: PlannedBuffer[] = [];
  const group: BufferGroup = w.head ? 'chunk' : 'prefix';
  const add = (name: string, floats: number) => out.push({ name: `${prefix}${name}`, bytes: bufferBytes(floats), group });
  for (let l = 0; l <= L; l++) add(`x.${l}`, rows * D);
  for (let l = 0; l < L; l++) {
    for (const n of ['q', 'k', 'v', 'o', 'xmid']) add(`${n}.${l}`, rows * D);
    add(`f.${l}`, rows * F);
    for (const n of ['m1', 'r1', 'm2', 'r2']) add(`${n}.${l}`, rows);
  }
  for (const n of ['h', 't', 'dX', 'dq', 'dk', 'dv']) add(n, rows * D);
  add('g', rows * F);
  add('dF', rows * F);
  add('scratch', attentionScratchFloats({ b: w.B, t: w.S, p: w.P, h: H, dh: D / H }));
  if (w.P > 0) {
    add('dkp', w.P * D);
    add('dvp', w.P * D);
  }
  if (w.head) {
    add('pooled', w.B * D);
    add('hf', w.B * D);
    add('dPooled', w.B * D);
    add('mf', w.B);
    add('rf', w.B);
    add('feat', w.B * E);
    if (w.chunkCtxFloats) add('dCtx', w.chunkCtxFloats);
  }
  return out;
}

export function weightBuffers(shape: ModelShape, ctxRows: number): PlannedBuffer[] {
  const { D, L, V, E, P } = shape;
  const F = shape.F ?? 4 * D;
  const out: PlannedBuffer[] = [];
  const add = (name: string, floats: number) => out.push({ name, bytes: bufferBytes(floats), group: 'weights' });
  // The context vectors ride along as extra rows of the token table: one gather builds every prompt.
  add('table', (V + ctxRows) * D);
  add('position', P * D);
  for (let l = 0; l < L; l++) {
    for (const n of ['ln1', 'ln2']) {
      add(`${l}.${n}.w`, D);
      add(`${l}.${n}.b`, D);
    }
    for (const n of ['q', 'k', 'v', 'out']) {
      add(`${l}.${n}.w`, D * D);
      add(`${l}.${n}.b`, D);
    }
    add(`${l}.fc1.w`, D * F);
    add(`${l}.fc1.b`, F);
    add(`${l}.fc2.w`, F * D);
    add(`${l}.fc2.b`, D);
  }
  add('final.w', D);
  add('final.b', D);
  add('projection', D * E);
  return out;
}

export interface StepShape {
  K: number;
  M: number;
  csc: boolean;
  /** Positions per class computed (T) and shared prefix (P, 0 for none). */
  T: number;
  P: number;
  chunk: number;
  /** Images in the batch. */
  N: number;
  /** Whether some prefix position / some suffix position holds a context vector. */
  prefixHasCtx: boolean;
  suffixHasCtx: boolean;
}

export function chunkSizes(K: number, chunk: number): number[] {
  const c = Math.max(1, Math.min(chunk, K));
  const out: number[] = [];
  for (let k0 = 0; k0 < K; k0 += c) out.push(Math.min(c, K - k0));
  return out;
}

/** Every buffer a step allocates besides the weights. */
export function stepBuffers(shape: ModelShape, s: StepShape): PlannedBuffer[] {
  const { D, E } = shape;
  const { K, M, N, T, P } = s;
  const S = T - P;
  const ctxRows = s.csc ? K * M : M;
  const out: PlannedBuffer[] = [];
  const add = (name: string, floats: number, group: BufferGroup = 'step') => out.push({ name, bytes: bufferBytes(floats), group });
  for (const n of ['features', 'textFeatures', 'dTextFeatures', 'dFeatures']) add(n, K * E);
  add('image', N * E);
  add('labels', N);
  add('logits', N * K);
  add('dLogits', N * K);
  add('lse', N);
  add('rowLoss', N);
  add('loss', 1);
  add('dCtx', ctxRows * D);
  chunkSizes(K, s.chunk).forEach((c, i) => {
    add(`rows.${i}`, c * S);
    add(`eos.${i}`, c);
    // d ctx = Sel·dX: [M, c·S] for unified context (summed over classes), [c, M, S] batched for CSC.
    if (s.suffixHasCtx) add(`sel.${i}`, M * c * S);
  });
  add('readback', 1 + N * K + ctxRows * D, 'readback');
  if (P > 0) {
    add('prefix.rows', P, 'prefix');
    if (s.prefixHasCtx) add('prefix.sel', ctxRows * P, 'prefix');
    for (let l = 0; l < shape.L; l++) {
      add(`prefix.dK.${l}`, P * D, 'prefix');
      add(`prefix.dV.${l}`, P * D, 'prefix');
    }
    out.push(...workspaceBuffers(shape, { B: 1, S: P, P: 0, head: false }, 'p.'));
  }
  const C = Math.max(1, Math.min(s.chunk, K));
  out.push(...workspaceBuffers(shape, { B: C, S, P, head: true, chunkCtxFloats: s.csc && s.suffixHasCtx ? C * M * D : 0 }, 'c.'));
  return out;
}

export interface StepPlanInput {
  shape: ModelShape;
  K: number;
  M: number;
  csc: boolean;
  position: ClassTokenPosition;
  /** Classes per chunk (activation memory is per chunk). Default: as many as fit `activationBudget`. */
  chunk?: number;
  /** Bytes one chunk's activations may take when `chunk` is not given. Default 512 MiB. */
  activationBudget?: number;
  /** Images per step. Default 32. */
  batch?: number;
  /** BPE tokens of the longest class name, when no real prompts are at hand. Default 4. */
  nameLen?: number;
  /** From a real layout: highest EOS + 1 and the shared-prefix length (override the estimate). */
  usedLength?: number;
  prefixLength?: number;
  /** Which path's buffers `buffers`/`peakBytes` describe. Default 'fast'. */
  mode?: EngineMode;
  /** From a real layout: whether the shared prefix / the per-class positions hold context vectors. */
  prefixHasCtx?: boolean;
  suffixHasCtx?: boolean;
}

export interface PathPlan {
  /** Positions per class computed (T), shared prefix (prefix), own positions per class (suffix). */
  T: number;
  prefix: number;
  suffix: number;
  /** Token positions run through the transformer per step (first forward; recomputation not counted). */
  positions: number;
  chunk: number;
  chunks: number;
  /** Chunks run forward twice (all but the last one, when K > chunk). */
  recomputedChunks: number;
  /** Multiply-adds ×2 of forward + backward, recomputation included. */
  flops: number;
  buffers: PlannedBuffer[];
  peakBytes: number;
}

export interface StepPlan {
  naivePositions: number;
  fastPositions: number;
  /** What the original CoOp computes: all 77 positions of all K prompts, forward and backward. */
  flopsNaive: number;
  flopsFast: number;
  /** Bytes of all buffers of the selected mode, held at once. */
  peakBytes: number;
  buffers: PlannedBuffer[];
  naive: PathPlan;
  fast: PathPlan;
}

/** Highest EOS + 1 and the shared prefix, from M and the name length. */
export function estimateLengths(M: number, csc: boolean, position: ClassTokenPosition, nameLen: number): { T: number; P: number } {
  const T = 1 + M + nameLen + 2; // SOS, context, name, '.', EOS
  const P = csc || position === 'front' ? 1 : position === 'end' ? 1 + M : 1 + Math.floor(M / 2);
  return { T, P };
}

/** Forward + backward flops (×2 per multiply-add). Linear backward is dX only: the weights are frozen. */
export function pathFlops(shape: ModelShape, K: number, N: number, T: number, P: number, recomputedClasses: number): number {
  const { D, L, E } = shape;
  const F = shape.F ?? 4 * D;
  const S = T - P;
  const linearPerRow = 2 * (4 * D * D + 2 * D * F);
  // Σ over queries of visible keys: the prefix is one causal sequence; own query i sees P + i + 1 keys.
  const prefixKeys = (P * (P + 1)) / 2;
  const ownKeys = S * P + (S * (S + 1)) / 2;
  const attnFwd = (keys: number) => 2 * 2 * D * keys; // QKᵀ, A·V
  const attnBwd = (keys: number) => 4 * 2 * D * keys; // dA, dV, dQ, dK
  const perClassFwd = L * (S * linearPerRow + attnFwd(ownKeys)) + 2 * D * E;
  const perClassBwd = L * (S * linearPerRow + attnBwd(ownKeys)) + 2 * D * E;
  const prefix = P > 0 ? L * (2 * P * linearPerRow + attnFwd(prefixKeys) + attnBwd(prefixKeys)) : 0;
  const logits = 3 * 2 * N * K * E;
  return prefix + K * (perClassFwd + perClassBwd) + recomputedClasses * perClassFwd + logits;
}

export function planStep(input: StepPlanInput): StepPlan {
  const { shape, K, M, csc, position } = input;
  const N = input.batch ?? 32;
  const est = estimateLengths(M, csc, position, input.nameLen ?? 4);
  const T = input.usedLength ?? est.T;
  const P = input.prefixLength ?? est.P;
  if (T > shape.P) throw new Error(`plan: prompts need ${T} positions, the model has ${shape.P}`);
  const ctxRows = csc ? K * M : M;
  // Where the context sits relative to the shared prefix decides which d ctx products exist.
  const prefixHasCtx = input.prefixHasCtx ?? (!csc && P > 1 && position !== 'front');
  const suffixHasCtx = input.suffixHasCtx ?? (csc || position !== 'end' || P < 1 + M);

  const makePath = (pT: number, pP: number, preCtx: boolean, sufCtx: boolean): PathPlan => {
    const sizes = chunkSizes(K, input.chunk ?? chunkForBudget(shape, pT, pP, input.activationBudget ?? DEFAULT_ACTIVATION_BUDGET));
    const chunk = sizes[0];
    const recomputedClasses = K - sizes[sizes.length - 1];
    const buffers = [...weightBuffers(shape, ctxRows), ...stepBuffers(shape, { K, M, csc, T: pT, P: pP, chunk, N, prefixHasCtx: preCtx, suffixHasCtx: sufCtx })];
    return {
      T: pT,
      prefix: pP,
      suffix: pT - pP,
      positions: pP + K * (pT - pP),
      chunk,
      chunks: sizes.length,
      recomputedChunks: sizes.length - 1,
      flops: pathFlops(shape, K, N, pT, pP, recomputedClasses),
      buffers,
      peakBytes: buffers.reduce((s, b) => s + b.bytes, 0),
    };
  };
  const naive = makePath(shape.P, 0, false, true);
  const fast = makePath(T, P, prefixHasCtx, suffixHasCtx);
  const selected = (input.mode ?? 'fast') === 'fast' ? fast : naive;
  return {
    naivePositions: naive.positions,
    fastPositions: fast.positions,
    flopsNaive: pathFlops(shape, K, N, shape.P, 0, 0),
    flopsFast: fast.flops,
    peakBytes: selected.peakBytes,
    buffers: selected.buffers,
    naive,
    fast,
  };
}

export const DEFAULT_ACTIVATION_BUDGET = 512 * 1024 * 1024;

/** Largest chunk whose per-chunk buffers fit `budgetBytes` (at least 1). */
export function chunkForBudget(shape: ModelShape, T: number, P: number, budgetBytes: number): number {
  const perClass = workspaceBuffers(shape, { B: 1, S: T - P, P, head: true }, '').reduce((s, b) => s + b.bytes, 0);
  return Math.max(1, Math.floor(budgetBytes / perClass));
}

export function formatBytes(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(2)} GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  return `${(n / 1024).toFixed(1)} KiB`;
}
