/**
 * The exported learned prompt: a versioned JSON file that carries the context vectors with everything needed to use
 * them again (and to refuse them where they would be meaningless). The schema is documented in
 * docs/prompt-format.md; this module writes it and validates every field when reading it back.
 *
 * Context vectors only mean something to the text encoder they were trained through, so a file names its model and
 * a fingerprint of that model's text weights, and is refused by any other model.
 */
import { bytesText, LIMITS, TooLargeError } from '../input-limits';
import type { ContextVectors } from './context-init';
import { extrasToJson, methodToJson, readExtras, readMethod, checkMethodSettings, type PromptFileMethod } from './prompt-file-extras';
import { bool, field, int, isObject, num, oneOf, Refusal, refuse, show, str, type Json } from './prompt-file-fields';
import type { Neighbor } from './nearest-tokens';
import { optimizerOf } from './param-optimizer';
import { OPTIMIZERS, type ClassTokenPosition, type TrainSettings } from './settings';

export const PROMPT_FORMAT = 'coop-prompt';
/** The version written for CoOp, KgCoOp and ProGrad (a context only); read by every reader since the first. */
export const PROMPT_FORMAT_VERSION = 1;
/** The version written when the context has extras (a successor's tensors), with the method that made them. */
export const PROMPT_FORMAT_VERSION_EXTRAS = 2;

export type { PromptFileMethod, PromptFileMethodName } from './prompt-file-extras';
export { PROMPT_FILE_METHODS } from './prompt-file-extras';

/** The model a file is checked against: manifest id, sha256 hex of text_model.onnx, token width D. */
export interface PromptModel {
  id: string;
  fingerprint: string;
  width: number;
}

export type PromptInit = { kind: 'random' } | { kind: 'words'; words: string };

export interface LearnedPrompt {
  model: { id: string; fingerprint: string };
  /**
   * Its shape gives D, M and whether the context is class-specific (K sets, K = classNames.length). Its extras, when
   * it has any, are written with `method` in a version-2 file.
   */
  context: ContextVectors;
  /** The successor that learned the extras and what its prediction needs; required with extras, absent otherwise. */
  method?: PromptFileMethod;
  position: ClassTokenPosition;
  init: PromptInit;
  classNames: string[];
  training: TrainSettings;
  /** e.g. { train_acc: 0.95, test_acc: 0.83, epochs_trained: 50 }; accuracies in [0, 1]. */
  metrics: Record<string, number>;
  /** [sets][M][k] as nearest-tokens.ts returns it, or null when not computed. */
  nearestTokens: Neighbor[][][] | null;
  /** ISO 8601. */
  created: string;
}

export type ParseResult = { ok: true; prompt: LearnedPrompt } | { ok: false; error: string };

const POSITIONS: readonly ClassTokenPosition[] = ['end', 'middle', 'front'];

/** TrainSettings keys as the file spells them. */
const TRAINING_KEYS = {
  nCtx: 'n_ctx',
  csc: 'csc',
  position: 'position',
  init: 'init',
  initWords: 'init_words',
  optimizer: 'optimizer',
  lr: 'lr',
  momentum: 'momentum',
  weightDecay: 'weight_decay',
  batchSize: 'batch_size',
  warmupEpochs: 'warmup_epochs',
  warmupLr: 'warmup_lr',
  epochs: 'epochs',
  views: 'views',
  seed: 'seed',
} as const satisfies Record<keyof TrainSettings, string>;

const short = (fingerprint: string) => `${fingerprint.slice(0, 8)}…`;

// ---- writing ----------------------------------------------------------------------------------------------------

/** Shortest decimal that reads back as the same float32, so files stay about half the size of full doubles. */
function f32Text(x: number): string {
  for (let p = 6; p < 9; p++) {
    const s = x.toPrecision(p);
    if (Math.fround(Number(s)) === x) return String(Number(s));
  }
  return String(Number(x.toPrecision(9)));
}

function rows(data: Float32Array, offset: number, count: number, width: number): number[][] {
  return Array.from({ length: count }, (_, r) => Array.from(data.subarray(offset + r * width, offset + (r + 1) * width)));
}

export function promptToJsonObject(p: LearnedPrompt): Record<string, unknown> {
  const { context: ctx } = p;
  const bad = ctx.data.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) throw new RangeError(`context value ${bad} is not finite; such a prompt cannot be exported`);
  const csc = ctx.cscClasses > 0;
  const context = csc
    ? Array.from({ length: ctx.cscClasses }, (_, s) => rows(ctx.data, s * ctx.nCtx * ctx.dim, ctx.nCtx, ctx.dim))
    : rows(ctx.data, 0, ctx.nCtx, ctx.dim);
  const extras = ctx.extras ?? [];
  if (extras.length > 0 && !p.method) throw new RangeError('a prompt with extra tensors needs the method that learned them to be exported');
  if (extras.length === 0 && p.method) throw new RangeError(`a ${p.method.name} prompt has no extra tensors to export`);
  if (p.method) checkMethodSettings(p.method);
  const training: Record<string, unknown> = {};
  for (const [k, fileKey] of Object.entries(TRAINING_KEYS)) training[fileKey] = p.training[k as keyof TrainSettings];
  // Written only when it is not CoOp's SGD, so files of SGD runs stay as they were before there was a choice.
  if (optimizerOf(p.training) === 'sgd') delete training.optimizer;
  return {
    format: PROMPT_FORMAT,
    version: p.method ? PROMPT_FORMAT_VERSION_EXTRAS : PROMPT_FORMAT_VERSION,
    ...(p.method ? { method: methodToJson(p.method) } : {}),
    model: { id: p.model.id, text_model_sha256: p.model.fingerprint },
    embed_dim: ctx.dim,
    n_ctx: ctx.nCtx,
    csc,
    class_token_position: p.position,
    init: p.init.kind === 'words' ? { kind: 'words', words: p.init.words } : { kind: 'random' },
    class_names: p.classNames,
    context,
    ...(p.method ? { extras: extrasToJson(extras) } : {}),
    training,
    // JSON cannot hold NaN (an empty class's accuracy): such entries are left out rather than written as null.
    metrics: Object.fromEntries(Object.entries(p.metrics).filter(([, v]) => Number.isFinite(v))),
    nearest_tokens: p.nearestTokens ? (csc ? p.nearestTokens : p.nearestTokens[0]) : null,
    created: p.created,
  };
}

/**
 * Pretty JSON with one line per vector (an array or object of plain values stays on one line). Only the context's numbers are
 * float32 (`f32`) and written in their shortest float32 form; every other number keeps full double precision.
 */
function format(v: unknown, indent: string, f32 = false): string {
  const number = (x: number) => (f32 ? f32Text(x) : JSON.stringify(x));
  if (typeof v === 'number') return number(v);
  if (Array.isArray(v)) {
    if (v.every((x) => x === null || typeof x !== 'object')) {
      return `[${v.map((x) => (typeof x === 'number' ? number(x) : JSON.stringify(x))).join(', ')}]`;
    }
    if (v.length === 0) return '[]';
    const inner = indent + '  ';
    return `[\n${v.map((x) => inner + format(x, inner, f32)).join(',\n')}\n${indent}]`;
  }
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v);
    if (entries.length === 0) return '{}';
    const inner = indent + '  ';
    if (entries.every(([, x]) => x === null || typeof x !== 'object')) {
      return `{${entries.map(([k, x]) => `${JSON.stringify(k)}: ${JSON.stringify(x)}`).join(', ')}}`;
    }
    return `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${format(x, inner, f32 || k === 'context' || k === 'values')}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(v);
}

export function serializePromptFile(p: LearnedPrompt): string {
  return format(promptToJsonObject(p), '') + '\n';
}

// ---- reading ----------------------------------------------------------------------------------------------------

/** Copies one vector into `out` at `offset`, refusing a wrong length or a value that is not a finite float32. */
function readVector(v: unknown, dim: number, out: Float32Array, offset: number, name: string): void {
  if (!Array.isArray(v)) refuse(`${name} must be an array of ${dim} numbers, got ${show(v)}`);
  const a = v as unknown[];
  if (a.length !== dim) refuse(`${name} has ${a.length} values, but embed_dim is ${dim}`);
  for (let i = 0; i < dim; i++) {
    const x = a[i];
    // JSON has no NaN or Infinity: they arrive as null (JSON.stringify's NaN), strings, or overflowing literals.
    if (typeof x !== 'number' || !Number.isFinite(Math.fround(x))) refuse(`${name} has a non-finite value at index ${i}`);
    out[offset + i] = x as number;
  }
}

/**
 * Reads the context: its shape (K x M x width as the header says) is checked in full before the Float32Array is
 * allocated, so the allocation is never larger than the arrays the file really holds.
 */
function readContext(raw: unknown, nCtx: number, dim: number, classNames: string[] | null): ContextVectors {
  const sets = classNames ? classNames.length : 1;
  const lists: unknown[][] = [];
  const vectors = (list: unknown, owner: string) => {
    if (!Array.isArray(list)) refuse(`${owner ? `the context of class '${owner}'` : '"context"'} must be an array of vectors, got ${show(list)}`);
    const l = list as unknown[];
    if (l.length !== nCtx) refuse(`${owner ? `class '${owner}' has` : '"context" has'} ${l.length} context vectors, but n_ctx is ${nCtx}`);
    l.forEach((vec, m) => {
      const name = `context vector ${m}${owner ? ` of class '${owner}'` : ''}`;
      if (!Array.isArray(vec)) refuse(`${name} must be an array of ${dim} numbers, got ${show(vec)}`);
      if ((vec as unknown[]).length !== dim) refuse(`${name} has ${(vec as unknown[]).length} values, but embed_dim is ${dim}`);
    });
    lists.push(l);
  };
  if (classNames) {
    if (!Array.isArray(raw)) refuse(`"context" must be an array with one entry per class (csc is true), got ${show(raw)}`);
    const r = raw as unknown[];
    if (r.length !== classNames.length) refuse(`"context" has ${r.length} class entries, but there are ${classNames.length} class names`);
    r.forEach((list, s) => vectors(list, classNames[s]));
  } else {
    vectors(raw, '');
  }
  const data = new Float32Array(sets * nCtx * dim);
  lists.forEach((l, s) => l.forEach((vec, m) => readVector(vec, dim, data, (s * nCtx + m) * dim, `context vector ${m}${classNames ? ` of class '${classNames[s]}'` : ''}`)));
  return { data, nCtx, dim, cscClasses: classNames ? classNames.length : 0 };
}

function readNeighbors(raw: unknown, nCtx: number, classNames: string[] | null): Neighbor[][][] | null {
  if (raw === null || raw === undefined) return null;
  const perVector = (list: unknown, where: string): Neighbor[][] => {
    if (!Array.isArray(list) || list.length !== nCtx) refuse(`${where} must hold one list per context vector (${nCtx})`);
    return (list as unknown[]).map((nbrs, m) => {
      if (!Array.isArray(nbrs)) refuse(`${where}[${m}] must be a list of neighbours`);
      return (nbrs as unknown[]).map((n, j) => {
        const w = `${where}[${m}][${j}] `;
        if (!isObject(n)) refuse(`${w}must be an object with id, token and distance`);
        const o = n as Json;
        const token = field(o, 'token', w);
        if (typeof token !== 'string') refuse(`${w}"token" must be a string, got ${show(token)}`);
        return { id: int(o, 'id', 0, w), token: token as string, distance: num(o, 'distance', w, 0) };
      });
    });
  };
  if (!classNames) return [perVector(raw, '"nearest_tokens"')];
  if (!Array.isArray(raw) || raw.length !== classNames.length) refuse(`"nearest_tokens" must hold one entry per class (${classNames.length})`);
  return (raw as unknown[]).map((l, s) => perVector(l, `"nearest_tokens" of class '${classNames[s]}'`));
}

function readTraining(raw: unknown): TrainSettings {
  if (!isObject(raw)) refuse(`"training" must be an object, got ${show(raw)}`);
  const t = raw as Json;
  const w = 'training ';
  const epochsRaw = field(t, 'epochs', w);
  const epochs = epochsRaw === 'auto' ? 'auto' : int(t, 'epochs', 1, w);
  return {
    nCtx: int(t, 'n_ctx', 1, w),
    csc: bool(t, 'csc', w),
    position: oneOf(t, 'position', POSITIONS, w),
    init: oneOf(t, 'init', ['random', 'words'] as const, w),
    initWords: (() => {
      const v = field(t, 'init_words', w);
      if (typeof v !== 'string') refuse(`${w}"init_words" must be a string, got ${show(v)}`);
      return v as string;
    })(),
    // Absent in files of SGD runs (and in every file written before Adam), as in their settings.
    ...('optimizer' in t ? { optimizer: oneOf(t, 'optimizer', OPTIMIZERS, w) } : {}),
    lr: num(t, 'lr', w, 0),
    momentum: num(t, 'momentum', w, 0),
    weightDecay: num(t, 'weight_decay', w, 0),
    batchSize: int(t, 'batch_size', 1, w),
    warmupEpochs: int(t, 'warmup_epochs', 0, w),
    warmupLr: num(t, 'warmup_lr', w, 0),
    epochs,
    views: int(t, 'views', 1, w),
    seed: int(t, 'seed', 0, w),
  };
}

function readPrompt(doc: unknown, model: PromptModel): LearnedPrompt {
  if (!isObject(doc)) refuse('This file is not a CoOp prompt: its top level is not a JSON object.');
  const d = doc as Json;
  if (d.format !== PROMPT_FORMAT) refuse(`This file is not a CoOp prompt: "format" is ${show(d.format)}, expected "${PROMPT_FORMAT}".`);
  if (d.version !== PROMPT_FORMAT_VERSION && d.version !== PROMPT_FORMAT_VERSION_EXTRAS) {
    refuse(`This prompt file has version ${show(d.version)}; this app reads versions ${PROMPT_FORMAT_VERSION} and ${PROMPT_FORMAT_VERSION_EXTRAS}.`);
  }
  // Version 1 defines no method or extras: a version-1 file that has such fields is read as the context alone.
  const v2 = d.version === PROMPT_FORMAT_VERSION_EXTRAS;
  const method = v2 ? readMethod(field(d, 'method', '')) : null;
  const m = field(d, 'model', '');
  if (!isObject(m)) refuse(`"model" must be an object with "id" and "text_model_sha256", got ${show(m)}`);
  const id = str(m as Json, 'id', 'model ');
  const fingerprint = str(m as Json, 'text_model_sha256', 'model ');
  if (!/^[0-9a-f]{64}$/i.test(fingerprint)) refuse(`model "text_model_sha256" must be 64 hexadecimal digits (a SHA-256), got ${show(fingerprint)}`);
  if (id !== model.id) {
    refuse(`this prompt was learned for model '${id}' (fingerprint ${short(fingerprint)}), but '${model.id}' is loaded`);
  }
  if (fingerprint.toLowerCase() !== model.fingerprint.toLowerCase()) {
    refuse(
      `this prompt was learned for model '${id}' (fingerprint ${short(fingerprint)}), but the loaded '${model.id}' has ` +
        `different text weights (fingerprint ${short(model.fingerprint)})`,
    );
  }
  const dim = int(d, 'embed_dim', 1);
  if (dim !== model.width) refuse(`this prompt's vectors have width ${dim}, but '${model.id}' uses token width ${model.width}`);
  const nCtx = int(d, 'n_ctx', 1);
  if (nCtx > LIMITS.promptNCtx) throw new TooLargeError('"n_ctx"', String(nCtx), `${LIMITS.promptNCtx} (CLIP reads 77 tokens)`, 'no prompt has that many context vectors');
  const csc = bool(d, 'csc');
  const position = oneOf(d, 'class_token_position', POSITIONS);
  const initRaw = field(d, 'init', '');
  if (!isObject(initRaw)) refuse(`"init" must be an object like {"kind": "random"}, got ${show(initRaw)}`);
  const kind = oneOf(initRaw as Json, 'kind', ['random', 'words'] as const, 'init ');
  const init: PromptInit = kind === 'words' ? { kind, words: str(initRaw as Json, 'words', 'init ') } : { kind };
  const namesRaw = field(d, 'class_names', '');
  if (!Array.isArray(namesRaw) || namesRaw.length === 0) refuse(`"class_names" must be a non-empty array of names, got ${show(namesRaw)}`);
  if ((namesRaw as unknown[]).length > LIMITS.classes) throw new TooLargeError('"class_names"', `${(namesRaw as unknown[]).length} names`, `${LIMITS.classes} classes`);
  const classNames = (namesRaw as unknown[]).map((n, i) => {
    if (typeof n !== 'string' || n.trim() === '') refuse(`class name ${i} must be a non-empty string, got ${show(n)}`);
    return n as string;
  });
  const dup = classNames.find((n, i) => classNames.indexOf(n) !== i);
  if (dup !== undefined) refuse(`the class name '${dup}' appears more than once`);
  const context = readContext(field(d, 'context', ''), nCtx, dim, csc ? classNames : null);
  if (v2) context.extras = readExtras(field(d, 'extras', ''));
  const training = readTraining(field(d, 'training', ''));
  const metricsRaw = field(d, 'metrics', '');
  if (!isObject(metricsRaw)) refuse(`"metrics" must be an object of numbers, got ${show(metricsRaw)}`);
  const metrics: Record<string, number> = {};
  for (const key of Object.keys(metricsRaw as Json)) metrics[key] = num(metricsRaw as Json, key, 'metrics ');
  const nearestTokens = readNeighbors(d.nearest_tokens, nCtx, csc ? classNames : null);
  const created = str(d, 'created');
  if (Number.isNaN(Date.parse(created))) refuse(`"created" must be an ISO 8601 time, got ${show(created)}`);
  return { model: { id, fingerprint }, context, ...(method ? { method } : {}), position, init, classNames, training, metrics, nearestTokens, created };
}

/** Refuses a prompt file by its size before it is read as text (File.size, or a file's stat on the command line). */
export function promptFileSizeProblem(bytes: number, name: string): string | null {
  if (bytes <= LIMITS.promptFileBytes) return null;
  return `${new TooLargeError(name, bytesText(bytes), bytesText(LIMITS.promptFileBytes), 'no prompt file is that large (class-specific context for 1000 classes is about 90 MB)').message}.`;
}

/** Reads and validates a prompt file for the loaded model; the error says what is wrong and where. */
export function parsePromptFile(text: string, model: PromptModel): ParseResult {
  // Characters, not bytes: a cap a little above the byte cap for text that is all ASCII (as prompt files are).
  if (text.length > LIMITS.promptFileBytes) {
    return { ok: false, error: `${new TooLargeError('This file', `${bytesText(text.length)} of text`, bytesText(LIMITS.promptFileBytes), 'no prompt file is that large').message}.` };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `This file is not valid JSON: ${(e as Error).message}` };
  }
  try {
    return { ok: true, prompt: readPrompt(doc, model) };
  } catch (e) {
    if (e instanceof TooLargeError) return { ok: false, error: `This prompt's ${e.message}.` };
    if (e instanceof RangeError && /call stack/i.test(e.message)) return { ok: false, error: 'This file nests its values deeper than any prompt file: it is not one this app wrote.' };
    if (e instanceof Refusal) {
      const msg = e.message;
      return { ok: false, error: msg.charAt(0).toUpperCase() + msg.slice(1) + (/[.!?]$/.test(msg) ? '' : '.') };
    }
    throw e;
  }
}

/** Suggested file name, e.g. coop-toy-clip-8cls-m16-unified-2025-05-01.json. */
export function promptFileName(p: LearnedPrompt): string {
  const kind = p.context.cscClasses > 0 ? 'csc' : 'unified';
  const safe = p.model.id.replace(/[^A-Za-z0-9._-]+/g, '_');
  return `${p.method?.name ?? 'coop'}-${safe}-${p.classNames.length}cls-m${p.context.nCtx}-${kind}-${p.created.slice(0, 10)}.json`;
}
