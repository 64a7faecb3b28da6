/**
 * What version 2 of the prompt file adds (docs/prompt-format.md): the successor method that made the prompt, with
 * the settings its prediction needs, and the tensors it learned beside the context (context-init.ts NamedParam:
 * CoCoOp's Meta-Net, deep prompts' per-block tokens, TCP's class MLP, DePT's modulations and head).
 *
 * A tensor is written as nested arrays in its PyTorch shape, one innermost row per line. Reading checks the whole
 * nesting against the declared shape before the Float32Array is allocated, so a file can make the reader allocate
 * no more than the numbers it really holds, and every count and rank is capped (input-limits.ts).
 */
import { LIMITS, TooLargeError } from '../input-limits';
import type { NamedParam } from './context-init';
import { field, isObject, num, refuse, show, type Json } from './prompt-file-fields';

/** The file's names of the methods that learn extras; CoOp, KgCoOp and ProGrad write version 1 and no method. */
export const PROMPT_FILE_METHODS = ['cocoop', 'deep', 'tcp', 'dept-coop', 'dept-kgcoop'] as const;
export type PromptFileMethodName = (typeof PROMPT_FILE_METHODS)[number];

/** A method setting: a number, a flag, a text (TCP's template) or a list of names (DePT's base classes). */
export type MethodFileValue = number | boolean | string | string[];

/**
 * The method and what its prediction needs, as the file spells it (snake_case keys). Checked when read: TCP's
 * `block` (integer ≥ 0, the block whose input takes the class-aware tokens) and `template` (with "{}" for the
 * class name); DePT's `base_classes` (distinct names: the classes its linear head scores). Other keys are kept as
 * they are, for the methods' own settings.
 */
export interface PromptFileMethod {
  name: PromptFileMethodName;
  settings: Record<string, MethodFileValue>;
}

// ---- writing ----------------------------------------------------------------------------------------------------

/** `data` in `shape` as nested arrays (row-major); a 1-D tensor is one flat array. */
function nest(data: Float32Array, shape: readonly number[], offset = 0): unknown[] {
  if (shape.length === 1) return Array.from(data.subarray(offset, offset + shape[0]));
  const inner = shape.slice(1).reduce((a, b) => a * b, 1);
  return Array.from({ length: shape[0] }, (_, i) => nest(data, shape.slice(1), offset + i * inner));
}

export function extrasToJson(extras: readonly NamedParam[]): Json[] {
  return extras.map((p) => {
    const size = p.shape.reduce((a, b) => a * b, 1);
    if (p.shape.length === 0 || size !== p.data.length) throw new RangeError(`${p.name} holds ${p.data.length} values for shape [${p.shape.join(', ')}]`);
    const bad = p.data.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) throw new RangeError(`${p.name} value ${bad} is not finite; such a prompt cannot be exported`);
    return { name: p.name, shape: [...p.shape], ...(p.lrScale !== undefined && p.lrScale !== 1 ? { lr_scale: p.lrScale } : {}), values: nest(p.data, p.shape) };
  });
}

export function methodToJson(m: PromptFileMethod): Json {
  return { name: m.name, settings: Object.fromEntries(Object.entries(m.settings).map(([k, v]) => [k, Array.isArray(v) ? [...v] : v])) };
}

// ---- reading ----------------------------------------------------------------------------------------------------

function readShape(raw: unknown, where: string): number[] {
  if (!Array.isArray(raw) || raw.length === 0) refuse(`${where}"shape" must be a non-empty array of sizes, got ${show(raw)}`);
  const a = raw as unknown[];
  if (a.length > LIMITS.promptExtraRank) throw new TooLargeError(`${where}"shape"`, `${a.length} dims`, `${LIMITS.promptExtraRank} dims`, 'no learned tensor has that many');
  a.forEach((d) => {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 1) refuse(`${where}"shape" must hold integers ≥ 1, got ${show(raw)}`);
  });
  return a as number[];
}

/**
 * The innermost rows of `values`, in order, once every level's length matches `shape`; the walk visits only arrays
 * the file holds, so a shape that declares more than the file has is refused here, before any allocation.
 */
function rowsOf(values: unknown, shape: number[], where: string): unknown[][] {
  const rows: unknown[][] = [];
  const walk = (v: unknown, depth: number, at: string) => {
    if (!Array.isArray(v)) refuse(`${where}values${at} must be an array of ${shape[depth]}, got ${show(v)}`);
    const a = v as unknown[];
    if (a.length !== shape[depth]) refuse(`${where}values${at} has ${a.length} entries, but the shape says ${shape[depth]}`);
    if (depth === shape.length - 1) rows.push(a);
    else a.forEach((x, i) => walk(x, depth + 1, `${at}[${i}]`));
  };
  walk(values, 0, '');
  return rows;
}

function readExtra(raw: unknown, j: number, seen: Set<string>): NamedParam {
  if (!isObject(raw)) refuse(`extra tensor ${j} must be an object with "name", "shape" and "values", got ${show(raw)}`);
  const o = raw as Json;
  const name = field(o, 'name', `extra tensor ${j} `);
  if (typeof name !== 'string' || name.length === 0 || name.length > 200) refuse(`extra tensor ${j} "name" must be a name of 1 to 200 characters, got ${show(name)}`);
  const n = name as string;
  if (seen.has(n)) refuse(`the extra tensor '${n}' appears more than once`);
  seen.add(n);
  const where = `extra tensor '${n}' `;
  const shape = readShape(field(o, 'shape', where), where);
  const rows = rowsOf(field(o, 'values', where), shape, where);
  const width = shape[shape.length - 1];
  const data = new Float32Array(rows.length * width);
  rows.forEach((row, r) =>
    row.forEach((x, i) => {
      // As the context: JSON has no NaN or Infinity, so they arrive as null, strings or literals past float32's range.
      if (typeof x !== 'number' || !Number.isFinite(Math.fround(x))) refuse(`${where}has a non-finite value at flat index ${r * width + i}`);
      data[r * width + i] = x as number;
    }),
  );
  const lrScale = 'lr_scale' in o ? num(o, 'lr_scale', where, 0) : undefined;
  if (lrScale === 0) refuse(`${where}"lr_scale" must be a positive number, got 0`);
  return { name: n, shape, data, ...(lrScale !== undefined ? { lrScale } : {}) };
}

export function readExtras(raw: unknown): NamedParam[] {
  if (!Array.isArray(raw) || raw.length === 0) refuse(`"extras" must be a non-empty array of tensors (version 2), got ${show(raw)}`);
  const a = raw as unknown[];
  if (a.length > LIMITS.promptExtras) throw new TooLargeError('"extras"', `${a.length} tensors`, `${LIMITS.promptExtras} tensors`, 'no method learns that many');
  const seen = new Set<string>();
  return a.map((x, j) => readExtra(x, j, seen));
}

function readSetting(v: unknown, key: string): MethodFileValue {
  if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean') return v;
  if (typeof v === 'string' && v.length <= 10_000) return v;
  if (Array.isArray(v) && v.length <= LIMITS.classes && v.every((s) => typeof s === 'string' && s.length > 0 && s.length <= 1000)) return [...(v as string[])];
  return refuse(`method setting "${key}" must be a finite number, true or false, a text, or a list of names, got ${show(v)}`);
}

export function readMethod(raw: unknown): PromptFileMethod {
  if (!isObject(raw)) refuse(`"method" must be an object like {"name": "cocoop", "settings": {}}, got ${show(raw)}`);
  const o = raw as Json;
  const name = field(o, 'name', 'method ');
  if (!PROMPT_FILE_METHODS.includes(name as PromptFileMethodName)) {
    refuse(`method "name" must be one of ${PROMPT_FILE_METHODS.map((m) => `"${m}"`).join(', ')}, got ${show(name)}`);
  }
  const s = field(o, 'settings', 'method ');
  if (!isObject(s)) refuse(`method "settings" must be an object, got ${show(s)}`);
  const keys = Object.keys(s as Json);
  if (keys.length > LIMITS.promptMethodSettings) throw new TooLargeError('method "settings"', `${keys.length} keys`, `${LIMITS.promptMethodSettings} keys`);
  // Own keys only into a null-prototype object: a key "__proto__" stays a key.
  const settings: Record<string, MethodFileValue> = Object.create(null);
  for (const k of keys) settings[k] = readSetting((s as Json)[k], k);
  const m = { name: name as PromptFileMethodName, settings: { ...settings } };
  checkMethodSettings(m);
  return m;
}

/** The settings each method's prediction cannot do without (see PromptFileMethod). */
export function checkMethodSettings(m: PromptFileMethod): void {
  const s = m.settings;
  const need = (key: string, ok: (v: MethodFileValue | undefined) => boolean, what: string) => {
    if (!ok(Object.hasOwn(s, key) ? s[key] : undefined)) refuse(`the ${m.name} method needs the setting "${key}" (${what}), got ${show(Object.hasOwn(s, key) ? s[key] : undefined)}`);
  };
  if (m.name === 'tcp') {
    need('block', (v) => typeof v === 'number' && Number.isInteger(v) && v >= 0, 'an integer ≥ 0: the block that takes the class-aware tokens');
    need('template', (v) => typeof v === 'string' && v.includes('{}'), 'the hand-written template, with {} for the class name');
  }
  if (m.name === 'dept-coop' || m.name === 'dept-kgcoop') {
    need('base_classes', (v) => Array.isArray(v) && v.length > 0 && new Set(v).size === v.length, 'the distinct names of the classes its linear head scores');
  }
}
