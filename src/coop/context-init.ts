/**
 * Initial context vectors [V]1..M, the only tensor CoOp trains (CoOp §3.2, trainers/coop.py PromptLearner).
 *
 * Random init draws N(0, 0.02²) as the original's nn.init.normal_(std=0.02), from our seeded generator
 * (random.ts: mulberry32 + Box–Muller), so the values differ from PyTorch's but the distribution is the same.
 * Word init copies the token-embedding rows of the init phrase's tokens ("a photo of a" → 4 vectors), and M
 * becomes that token count.
 */
import { createRng, deriveSeed, STREAM } from './random';
import type { TrainSettings } from './settings';

/** Row-major context: [M, D] when shared by all classes, [K, M, D] when class-specific (CSC). */
export interface ContextVectors {
  data: Float32Array;
  nCtx: number;
  dim: number;
  /** Number of classes owning their own context; 0 means one unified context. */
  cscClasses: number;
  /**
   * A successor's parameters beside the context (CoCoOp's Meta-Net, deep prompts' per-block tokens, TCP's class MLP,
   * DePT's modulations and head), trained with it by the same optimizer. Absent for CoOp, KgCoOp and ProGrad.
   */
  extras?: NamedParam[];
}

/** One learned tensor besides the context, named as the official module names it (e.g. "meta_net.linear1.weight"). */
export interface NamedParam {
  name: string;
  /** PyTorch's shape (Linear weights [out, in]); data is row-major. */
  shape: number[];
  data: Float32Array;
  /** Multiplies the learning rate for this tensor (DePT trains its head at 6.5× the prompt's); default 1. */
  lrScale?: number;
}

export const RANDOM_INIT_STD = 0.02;

export function isCsc(ctx: ContextVectors): boolean {
  return ctx.cscClasses > 0;
}

/** Shape as nested arrays would have it: [M, D] or [K, M, D]. */
export function contextShape(ctx: ContextVectors): number[] {
  return isCsc(ctx) ? [ctx.cscClasses, ctx.nCtx, ctx.dim] : [ctx.nCtx, ctx.dim];
}

export function cloneContext(ctx: ContextVectors): ContextVectors {
  return { ...ctx, data: ctx.data.slice(), ...(ctx.extras ? { extras: ctx.extras.map((p) => ({ ...p, shape: [...p.shape], data: p.data.slice() })) } : {}) };
}

export interface RandomInitOptions {
  nCtx: number;
  dim: number;
  /** Class-specific context: one set per class. */
  csc: boolean;
  nClasses: number;
  seed: number;
  std?: number;
}

export function randomContext({ nCtx, dim, csc, nClasses, seed, std = RANDOM_INIT_STD }: RandomInitOptions): ContextVectors {
  if (!(nCtx >= 1) || !Number.isInteger(nCtx)) throw new RangeError(`n_ctx must be a positive integer, got ${nCtx}`);
  if (csc && !(nClasses >= 1)) throw new RangeError('class-specific context needs at least one class');
  const sets = csc ? nClasses : 1;
  const data = new Float32Array(sets * nCtx * dim);
  const rng = createRng(deriveSeed(seed, STREAM.context));
  for (let i = 0; i < data.length; i++) data[i] = std * rng.normal();
  return { data, nCtx, dim, cscClasses: csc ? nClasses : 0 };
}

/** The original replaces underscores before tokenizing the init phrase ("a_photo_of_a"). */
export function normalizeInitWords(words: string): string {
  return words.replace(/_/g, ' ').trim();
}

export interface WordInitOptions {
  /** Token ids of the init phrase, without start/end tokens (tokenizer.encode(normalizeInitWords(words))). */
  ids: readonly number[];
  /** Row `id` of the frozen token-embedding table, length D. */
  tokenEmbedding: (id: number) => Float32Array;
  /** Asked-for class-specific context; the original ignores it with word init, we honour it with a note. */
  csc: boolean;
  nClasses: number;
}

export interface WordInitResult {
  ctx: ContextVectors;
  /** For the UI when a choice departs from the original; absent when it does not. */
  note?: string;
}

export const CSC_WORD_INIT_NOTE =
  'The original CoOp ignores class-specific context when the context is initialized from words (it trains one ' +
  'shared context). Here every class starts from its own copy of the init words and they are trained separately.';

export function wordContext({ ids, tokenEmbedding, csc, nClasses }: WordInitOptions): WordInitResult {
  if (ids.length === 0) throw new RangeError('the init words produced no tokens');
  const rows = ids.map((id) => tokenEmbedding(id));
  const dim = rows[0].length;
  rows.forEach((r, i) => {
    if (r.length !== dim) throw new RangeError(`token ${ids[i]} has an embedding of length ${r.length}, expected ${dim}`);
  });
  const nCtx = ids.length;
  const sets = csc ? nClasses : 1;
  if (csc && !(nClasses >= 1)) throw new RangeError('class-specific context needs at least one class');
  const data = new Float32Array(sets * nCtx * dim);
  for (let s = 0; s < sets; s++) rows.forEach((r, m) => data.set(r, (s * nCtx + m) * dim));
  const ctx = { data, nCtx, dim, cscClasses: csc ? nClasses : 0 };
  return csc ? { ctx, note: CSC_WORD_INIT_NOTE } : { ctx };
}

export interface InitContextDeps {
  /** D, the token-embedding width. */
  dim: number;
  nClasses: number;
  /** The tokenizer's encode (ids without start/end tokens); needed for word init. */
  encode?: (text: string) => number[];
  tokenEmbedding?: (id: number) => Float32Array;
}

/** The context a run starts from, as chosen in its settings (random: nCtx vectors; words: one per init token). */
export function initContext(
  settings: Pick<TrainSettings, 'init' | 'initWords' | 'nCtx' | 'csc' | 'seed'>,
  { dim, nClasses, encode, tokenEmbedding }: InitContextDeps,
): WordInitResult {
  if (settings.init === 'random') {
    return { ctx: randomContext({ nCtx: settings.nCtx, dim, csc: settings.csc, nClasses, seed: settings.seed }) };
  }
  if (!encode || !tokenEmbedding) throw new Error('word init needs the tokenizer and the token-embedding table');
  const ids = encode(normalizeInitWords(settings.initWords));
  return wordContext({ ids, tokenEmbedding, csc: settings.csc, nClasses });
}
