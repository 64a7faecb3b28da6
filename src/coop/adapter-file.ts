/**
 * The exported classifier of a feature-only method (CLAP, LP++, TaskRes, CLIP-Adapter): a versioned JSON file
 * (`coop-adapter`, docs/prompt-format.md) that names the method that made it and carries its weights, so that it
 * classifies new images again on import. These weights act on image features, so a file names its model and a
 * fingerprint of that model's image tower, and only that model accepts it.
 */
import { adapterClasses, FEATURE_METHODS, type AdapterWeights, type FeatureMethod } from './adapter-methods';

export const ADAPTER_FORMAT = 'coop-adapter';
export const ADAPTER_FORMAT_VERSION = 1;

export const FEATURE_METHOD_NAMES: Readonly<Record<FeatureMethod, string>> = Object.freeze({
  clap: 'CLAP',
  lpp: 'LP++',
  taskres: 'TaskRes',
  'clip-adapter': 'CLIP-Adapter',
});

export interface AdapterFile {
  model: { id: string; imageFingerprint: string };
  classNames: string[];
  weights: AdapterWeights;
  settings: Record<string, number | string | boolean | null>;
  /** Accuracies in [0, 1] and the like, e.g. { test_acc: 0.9 }. */
  metrics: Record<string, number>;
  /** ISO 8601. */
  created: string;
}

export type AdapterParse = { ok: true; file: AdapterFile } | { ok: false; error: string };

/** Per method: its matrices (name → [rows, columns] in terms of C classes, E width, H hidden) and scalars. */
const LAYOUT: Record<FeatureMethod, { tensors: Record<string, (C: number, E: number, H: number) => [number, number]>; scalars: string[] }> = {
  clap: { tensors: { weights: (C, E) => [C, E] }, scalars: ['scale'] },
  taskres: { tensors: { text: (C, E) => [C, E], residual: (C, E) => [C, E] }, scalars: ['alpha', 'scale'] },
  'clip-adapter': { tensors: { text: (C, E) => [C, E], w1: (_C, E, H) => [H, E], w2: (_C, E, H) => [E, H] }, scalars: ['hidden', 'ratio', 'scale'] },
  lpp: { tensors: { text: (C, E) => [C, E], weights: (C, E) => [C, E], bias: (C) => [1, C], alpha: (C) => [1, C] }, scalars: [] },
};

function f32Text(x: number): string {
  for (let p = 6; p < 9; p++) {
    const s = x.toPrecision(p);
    if (Math.fround(Number(s)) === x) return String(Number(s));
  }
  return String(Number(x.toPrecision(9)));
}

export function adapterFileName(f: AdapterFile): string {
  return `${f.weights.method}-${f.model.id}-${f.classNames.length}cls-${f.created.slice(0, 10)}.json`;
}

export function serializeAdapterFile(f: AdapterFile, dim: number): string {
  const w = f.weights as unknown as Record<string, unknown>;
  const C = f.classNames.length;
  const hidden = f.weights.method === 'clip-adapter' ? f.weights.hidden : 0;
  const layout = LAYOUT[f.weights.method];
  const tensorLines = Object.entries(layout.tensors).map(([name, shape]) => {
    const [rows, cols] = shape(C, dim, hidden);
    const data = w[name] as Float32Array;
    const lines = Array.from({ length: rows }, (_, r) => `    [${Array.from(data.subarray(r * cols, (r + 1) * cols), f32Text).join(', ')}]`);
    return `  ${JSON.stringify(name)}: [\n${lines.join(',\n')}\n  ]`;
  });
  const head = {
    format: ADAPTER_FORMAT,
    version: ADAPTER_FORMAT_VERSION,
    method: f.weights.method,
    method_name: FEATURE_METHOD_NAMES[f.weights.method],
    model: { id: f.model.id, image_model_sha256: f.model.imageFingerprint },
    embed_dim: dim,
    class_names: f.classNames,
    parameters: Object.fromEntries(layout.scalars.map((k) => [k, w[k]])),
    settings: f.settings,
    metrics: f.metrics,
    created: f.created,
  };
  const headText = JSON.stringify(head, null, 1).replace(/\n\}$/, '');
  return `${headText},\n "tensors": {\n${tensorLines.join(',\n')}\n }\n}\n`;
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * Reads a file back, checking every field; `model` is the model it will run on (id and image fingerprint):
 * a file made with another model is refused, since its weights live in that model's feature space.
 */
export function parseAdapterFile(text: string, model: { id: string; imageFingerprint: string; dim: number }): AdapterParse {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `not JSON: ${(e as Error).message}` };
  }
  if (!isObj(j)) return { ok: false, error: 'not a coop-adapter file: the top level is not an object' };
  if (j.format !== ADAPTER_FORMAT) return { ok: false, error: `not a coop-adapter file: "format" is ${JSON.stringify(j.format)}` };
  if (typeof j.version !== 'number' || !Number.isInteger(j.version) || j.version < 1) return { ok: false, error: `"version" must be a positive integer, got ${JSON.stringify(j.version)}` };
  if (j.version > ADAPTER_FORMAT_VERSION) return { ok: false, error: `the file is coop-adapter version ${j.version}; this build reads up to version ${ADAPTER_FORMAT_VERSION}: update the app or the command line` };
  const method = j.method as FeatureMethod;
  if (!FEATURE_METHODS.includes(method)) return { ok: false, error: `"method" ${JSON.stringify(j.method)} is not one of ${FEATURE_METHODS.join(', ')}` };
  const m = j.model;
  if (!isObj(m) || typeof m.id !== 'string' || typeof m.image_model_sha256 !== 'string') return { ok: false, error: '"model" must be {"id": string, "image_model_sha256": string}' };
  if (m.id !== model.id || m.image_model_sha256 !== model.imageFingerprint)
    return { ok: false, error: `this ${FEATURE_METHOD_NAMES[method]} file was made with model '${m.id}' (image tower ${m.image_model_sha256.slice(0, 8)}…), not the loaded '${model.id}' (${model.imageFingerprint.slice(0, 8)}…): its weights act on that model's image features; load that model, or train again with this one` };
  if (j.embed_dim !== model.dim) return { ok: false, error: `"embed_dim" is ${JSON.stringify(j.embed_dim)}, the model's features have ${model.dim}` };
  const names = j.class_names;
  if (!Array.isArray(names) || names.length < 1 || !names.every((n) => typeof n === 'string' && n.length > 0)) return { ok: false, error: '"class_names" must be a non-empty list of non-empty strings' };
  if (new Set(names).size !== names.length) return { ok: false, error: '"class_names" has a name twice' };
  const C = names.length;
  const E = model.dim;
  const params = isObj(j.parameters) ? j.parameters : {};
  const layout = LAYOUT[method];
  const out: Record<string, unknown> = { method };
  for (const k of layout.scalars) {
    const v = params[k];
    if (typeof v !== 'number' || !Number.isFinite(v)) return { ok: false, error: `"parameters.${k}" must be a finite number for ${FEATURE_METHOD_NAMES[method]}, got ${JSON.stringify(v)}` };
    out[k] = v;
  }
  const hidden = method === 'clip-adapter' ? (out.hidden as number) : 0;
  if (method === 'clip-adapter' && !(Number.isInteger(hidden) && hidden >= 1)) return { ok: false, error: `"parameters.hidden" must be a positive integer, got ${hidden}` };
  const tensors = j.tensors;
  if (!isObj(tensors)) return { ok: false, error: '"tensors" must be an object of matrices' };
  for (const [name, shape] of Object.entries(layout.tensors)) {
    const [rows, cols] = shape(C, E, hidden);
    const t = tensors[name];
    if (!Array.isArray(t) || t.length !== rows) return { ok: false, error: `"tensors.${name}" must have ${rows} rows for ${C} classes, got ${Array.isArray(t) ? t.length : typeof t}` };
    const data = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      const row = t[r];
      if (!Array.isArray(row) || row.length !== cols) return { ok: false, error: `"tensors.${name}" row ${r} must have ${cols} numbers, got ${Array.isArray(row) ? row.length : typeof row}` };
      for (let c = 0; c < cols; c++) {
        const v = row[c];
        if (typeof v !== 'number' || !Number.isFinite(v)) return { ok: false, error: `"tensors.${name}" row ${r}, column ${c} is not a finite number` };
        data[r * cols + c] = v;
      }
    }
    out[name] = data;
  }
  const weights = out as unknown as AdapterWeights;
  if (adapterClasses(weights, E) !== C) return { ok: false, error: `the weights have ${adapterClasses(weights, E)} classes, "class_names" ${C}` };
  const settings = isObj(j.settings) ? (j.settings as AdapterFile['settings']) : {};
  const metrics = isObj(j.metrics) ? Object.fromEntries(Object.entries(j.metrics).filter(([, v]) => typeof v === 'number')) as Record<string, number> : {};
  return { ok: true, file: { model: { id: m.id, imageFingerprint: m.image_model_sha256 }, classNames: names as string[], weights, settings, metrics, created: typeof j.created === 'string' ? j.created : '' } };
}

/** Whether a text is an adapter file rather than a learned prompt (both are JSON with a "format" field). */
export function isAdapterFile(text: string): boolean {
  return /"format"\s*:\s*"coop-adapter"/.test(text.slice(0, 200));
}
