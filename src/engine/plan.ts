/**
 * The text engine's memory and work plan, computed before anything is allocated.
 *
 * Activation memory is bounded by processing classes in chunks: a step first runs every
 * chunk forward to its text feature (the loss needs all K features before any backward),
 * then, per chunk, recomputes that chunk's forward with activations saved and runs its
 * backward. Only one chunk's activations exist at a time; with a single chunk the first
 * forward already saved them and nothing is recomputed. The shared prefix is computed once
 * and its key/value gradients accumulate over all chunks before the prefix's own backward.
 *
 * The engine allocates exactly the buffers listed here (through the byte-counting
 * allocator), so the plan's bytes are the engine's bytes.
 */
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

export interface StepPlanInput {
  shape: ModelShape;
  K: number;
  M: number;
  csc: boolean;
  position: ClassTokenPosition;
  /** Classes per chunk (activation memory is per chunk). */
  chunk: number;
  /** Images per step (the batch), for the logits buffers. Default 32. */
  batch?: number;
  /** BPE tokens in the longest class name, when no real prompts are at hand. Default 4. */
  nameLen?: number;
  /** From a real layout: highest EOS + 1 and the shared-prefix length (override the estimate). */
  usedLength?: number;
  prefixLength?: number;
  /** Which path's buffers to list (the numbers for both are always given). Default 'fast'. */
  mode?: EngineMode;
}

export type BufferGroup = 'weights' | 'step' | 'prefix' | 'chunk';

export interface PlannedBuffer {
  name: string;
  bytes: number;
  group: BufferGroup;
}

export interface PathPlan {
  /** Positions per sequence computed (T), shared-prefix length (P), per-class suffix (S = T − P). */
  T: number;
  prefix: number;
  suffix: number;
  /** Token positions run through the transformer per step (forward, recomputation not counted). */
  positions: number;
  chunk: number;
  chunks: number;
  /** Whether chunks are run forward twice (K > chunk). */
  recompute: boolean;
  /** Forward + backward multiply-adds ×2, recomputation included. */
  flops: number;
  buffers: PlannedBuffer[];
  peakBytes: number;
}

export interface StepPlan {
  naivePositions: number;
  fastPositions: number;
  flopsNaive: number;
  flopsFast: number;
  /** Bytes of every buffer of the selected mode, all live at once. */
  peakBytes: number;
  buffers: PlannedBuffer[];
  naive: PathPlan;
  fast: PathPlan;
}

const F32 = 4;

/** Storage sizes are rounded as the allocator rounds them. */
function bytes(floats: number): number {
  return Math.max(4, Math.ceil((floats * F32) / 4) * 4);
}

/** Highest EOS + 1 and the shared prefix, estimated from M and the name length when no layout is given. */
export function estimateLengths(M: number, csc: boolean, position: ClassTokenPosition, nameLen: number): { T: number; P: number } {
  const T = 1 + M + nameLen + 2; // SOS, context, name, '.', EOS
  const P = csc || position === 'front' ? 1 : position === 'end' ? 1 + M : 1 + Math.floor(M / 2);
  return { T, P };
}

export interface PathShape {
  /** Sequence positions computed per class (T) and the shared prefix (P, 0 for none). */
  T: number;
  prefix: number;
}

/**
 * Buffers of one path. Names are what the engine looks them up by; `[l]` buffers are one per
 * layer (listed once with the layer count folded into the size, and allocated as one buffer).
 */
export function planBuffers(
  shape: ModelShape,
  K: number,
  ctxRows: number,
  path: PathShape,
  chunk: number,
  batch: number,
  M = 0,
  csc = false,
): PlannedBuffer[] {
  const { D, L, H, V, E } = shape;
  const F = shape.F ?? 4 * D;
  const Pctx = shape.P;
  const P = path.prefix;
  const S = path.T - P;
  const C = Math.min(chunk, K);
  const rows = C * S;
  const out: PlannedBuffer[] = [];
  const add = (name: string, floats: number, group: BufferGroup) => out.push({ name, bytes: bytes(floats), group });

  // Weights: the token table carries the context vectors as extra rows (one gather builds prompts).
  add('table', (V + ctxRows) * D, 'weights');
  add('position', Pctx * D, 'weights');
  add('ln', L * 4 * D + 2 * D, 'weights');
  add('attnW', L * 4 * D * D, 'weights');
  add('attnB', L * 4 * D, 'weights');
  add('fc1W', L * D * F, 'weights');
  add('fc1B', L * F, 'weights');
  add('fc2W', L * F * D, 'weights');
  add('fc2B', L * D, 'weights');
  add('projection', D * E, 'weights');

  // Per step, all classes: prompt rows, EOS, features and the loss.
  add('suffixRows', K * S, 'step'); // u32
  add('eos', K, 'step'); // u32, relative to the suffix
  add('features', K * E, 'step');
  add('textFeatures', K * E, 'step');
  add('dFeatures', K * E, 'step');
  add('dTextFeatures', K * E, 'step');
  add('imageFeatures', batch * E, 'step');
  add('labels', batch, 'step');
  add('logits', batch * K, 'step');
  add('dLogits', batch * K, 'step');
  add('loss', 4, 'step');
  add('dCtx', ctxRows * D, 'step');
  // d ctx = Sel · d(input embeddings): per chunk [M, C·S] (unified) or per class [M, S] (CSC).
  add('ctxSelect', csc ? K * M * S : M * K * S, 'step');

  if (P > 0) {
    add('prefixRows', P, 'prefix');
    add('prefixSelect', Math.max(1, (csc ? 0 : M) * P), 'prefix');
    add('prefixX', (L + 1) * P * D, 'prefix');
    add('prefixQ', L * P * D, 'prefix');
    add('prefixK', L * P * D, 'prefix');
    add('prefixV', L * P * D, 'prefix');
    add('prefixXmid', L * P * D, 'prefix');
    add('prefixF', L * P * F, 'prefix');
    add('prefixStats', L * H * P, 'prefix');
    add('dPrefixK', L * P * D, 'prefix');
    add('dPrefixV', L * P * D, 'prefix');
    add('prefixTmpD', 4 * P * D, 'prefix'); // h, a, and two gradient rows of width D
    add('prefixTmpF', 2 * P * F, 'prefix');
    add('prefixTmpQKV', 3 * P * D, 'prefix');
  }

  // One chunk of classes: saved activations for backward, and workspace.
  add('x', (L + 1) * rows * D, 'chunk');
  add('q', L * rows * D, 'chunk');
  add('k', L * rows * D, 'chunk');
  add('v', L * rows * D, 'chunk');
  add('xmid', L * rows * D, 'chunk');
  add('f', L * rows * F, 'chunk');
  add('stats', L * C * H * S, 'chunk');
  add('tmpD', 4 * rows * D, 'chunk');
  add('tmpF', 2 * rows * F, 'chunk');
  add('tmpQKV', 3 * rows * D, 'chunk');
  add('eosRows', 2 * C * D, 'chunk');
  add('lnStats', 2 * C, 'chunk');
  add('chunkFeatures', C * E, 'chunk');
  return out;
}

function attentionKeys(T: number, P: number): { prefix: number; suffix: number } {
  // Σ over queries of visible keys: the prefix is one causal sequence, each suffix query i sees P + i + 1.
  const S = T - P;
  return { prefix: (P * (P + 1)) / 2, suffix: S * P + (S * (S + 1)) / 2 };
}

/** Forward+backward flops of a path (×2 per multiply-add; linear backward is dX only: weights are frozen). */
export function pathFlops(shape: ModelShape, K: number, batch: number, path: PathShape, recompute: boolean): number {
  const { D, L, E } = shape;
  const F = shape.F ?? 4 * D;
  const P = path.prefix;
  const S = path.T - P;
  const linearPerRow = 2 * (4 * D * D + 2 * D * F);
  const keys = attentionKeys(path.T, P);
  const attnFwd = (nKeys: number) => 2 * 2 * D * nKeys; // QKᵀ and A·V
  const attnBwd = (nKeys: number) => 4 * 2 * D * nKeys; // dA, dV, dQ, dK
  const suffixFwd = L * (K * S * linearPerRow + K * attnFwd(keys.suffix));
  const suffixBwd = L * (K * S * linearPerRow + K * attnBwd(keys.suffix));
  const prefixFwd = L * (P * linearPerRow + attnFwd(keys.prefix));
  const prefixBwd = L * (P * linearPerRow + attnBwd(keys.prefix));
  const head = K * 2 * D * E * 2 + batch * K * E * 2 * 3;
  return prefixFwd + prefixBwd + suffixFwd * (recompute ? 2 : 1) + suffixBwd + head;
}

export function planStep(input: StepPlanInput): StepPlan {
  const { shape, K, M, csc, position } = input;
  const batch = input.batch ?? 32;
  const est = estimateLengths(M, csc, position, input.nameLen ?? 4);
  const T = input.usedLength ?? est.T;
  const P = input.prefixLength ?? est.P;
  if (T > shape.P) throw new Error(`plan: prompts need ${T} positions, the model has ${shape.P}`);
  const ctxRows = csc ? K * M : M;
  const chunk = Math.max(1, Math.min(input.chunk, K));
  const chunks = Math.ceil(K / chunk);

  const makePath = (p: PathShape, recompute: boolean, pathChunk: number, pathChunks: number): PathPlan => {
    const buffers = planBuffers(shape, K, ctxRows, p, pathChunk, batch, M, csc);
    return {
      T: p.T,
      prefix: p.prefix,
      suffix: p.T - p.prefix,
      positions: p.prefix + K * (p.T - p.prefix),
      chunk: pathChunk,
      chunks: pathChunks,
      recompute,
      flops: pathFlops(shape, K, batch, p, recompute),
      buffers,
      peakBytes: buffers.reduce((s, b) => s + b.bytes, 0),
    };
  };
  // The original keeps every activation of all 77 positions (no recompute); our naive path
  // computes the same positions but still in chunks, so its memory is bounded too.
  const naive = makePath({ T: shape.P, prefix: 0 }, false, chunk, chunks);
  naive.recompute = chunks > 1;
  const fast = makePath({ T, prefix: P }, chunks > 1, chunk, chunks);
  const selected = (input.mode ?? 'fast') === 'fast' ? fast : naive;
  return {
    naivePositions: naive.positions,
    fastPositions: fast.positions,
    flopsNaive: naive.flops,
    flopsFast: fast.flops,
    peakBytes: selected.peakBytes,
    buffers: selected.buffers,
    naive,
    fast,
  };
}

/** Largest chunk whose 'chunk' buffers fit `budgetBytes` (at least 1). */
export function chunkForBudget(shape: ModelShape, path: PathShape, budgetBytes: number): number {
  const perClass = planBuffers(shape, 1, 0, path, 1, 1)
    .filter((b) => b.group === 'chunk')
    .reduce((s, b) => s + b.bytes, 0);
  return Math.max(1, Math.floor(budgetBytes / perClass));
}
