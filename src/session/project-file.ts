/**
 * Project files: one zip (fflate: small, fast, dependency-free, the same in the browser and Node) holding
 * `project.json` (docs/project-format.md), the images as the original files, and each run's learned prompt as a
 * prompt file (docs/prompt-format.md). Reading checks, in order, that the bytes are a zip, that it holds a
 * project.json of our format and version, that every file it lists is there, and that its model is available;
 * each refusal says which.
 */
import { strFromU8, strToU8, unzipSync, zipSync, type Zippable } from 'fflate';
import { parsePromptFile, serializePromptFile, type LearnedPrompt } from '../coop/prompt-file';
import { bytesText, checkBytes, checkCount, LIMITS, TooLargeError } from '../input-limits';
import { MAX_IMAGE_PIXELS } from '../preprocess/decode';
import { sniffImageSize } from '../preprocess/imageSize';
import type { RunRecord, StoredImage, WorkspaceRecord } from './records';
import { checkRun, checkWorkspace, WORKSPACE_VERSION } from './records';

export const PROJECT_FORMAT = 'coop-project';
export const PROJECT_VERSION = 1;

export interface ProjectContents {
  workspace: WorkspaceRecord;
  images: StoredImage[];
  runs: RunRecord[];
  /** The model the project names: manifest id, folder and text-weights fingerprint. */
  model: { id: string; folder: string; fingerprint: string };
}

export type ReadResult = { ok: true; project: ProjectContents } | { ok: false; error: string };

/**
 * Typed arrays in project.json: `{"$f32": [...]}`, `{"$i32": [...]}`. A float32 printed by JSON.stringify reads back
 * as the same float32 (the shortest decimal that round-trips a double also round-trips the float it came from).
 */
function toJson(value: unknown): unknown {
  if (value instanceof Float32Array) return { $f32: Array.from(value) };
  if (value instanceof Int32Array) return { $i32: Array.from(value) };
  if (Array.isArray(value)) return value.map(toJson);
  if (value && typeof value === 'object' && !(value instanceof Blob)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJson(v)]));
  return value;
}

function fromJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromJson);
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (Array.isArray(o.$f32)) return Float32Array.from(o.$f32 as number[]);
    if (Array.isArray(o.$i32)) return Int32Array.from(o.$i32 as number[]);
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, fromJson(v)]));
  }
  return value;
}

const safeName = (name: string) => name.replace(/[^\w.-]+/g, '_').slice(-80) || 'image';

/** The learned prompt of a run, for its prompt file; null when the run has learned nothing yet. */
export function runPrompt(run: RunRecord): LearnedPrompt | null {
  const v = run.view;
  if (!v?.context) return null;
  const metrics: Record<string, number> = { epochs_trained: v.epoch, steps_trained: v.step };
  for (const [split, acc] of Object.entries(v.accuracies)) metrics[`${split}_acc`] = acc;
  return {
    model: { id: run.model.id, fingerprint: run.model.fingerprint },
    context: v.context,
    // A successor's extras are written with the method that learned them (a version-2 prompt file).
    ...(run.method ? { method: run.method } : {}),
    position: run.position,
    init: run.settings.init === 'words' ? { kind: 'words', words: run.settings.initWords } : { kind: 'random' },
    classNames: v.classNames,
    training: { ...run.settings, nCtx: v.nCtx, csc: v.csc, position: run.position },
    metrics,
    nearestTokens: null,
    created: run.created,
  };
}

export async function writeProject(p: ProjectContents): Promise<Uint8Array> {
  const files: Zippable = {};
  const fileOf = new Map<string, string>();
  let n = 0;
  for (const img of p.images) {
    const file = `images/${String(++n).padStart(5, '0')}-${safeName(img.name)}`;
    fileOf.set(img.key, file);
    // Images are already compressed (JPEG, PNG): stored, not deflated again.
    files[file] = [new Uint8Array(await img.blob.arrayBuffer()), { level: 0 }];
  }
  const ref = (key: string) => {
    const f = fileOf.get(key);
    if (!f) throw new Error(`image ${key} is listed but not stored`);
    return f;
  };
  const runs = p.runs.map((r) => {
    const prompt = runPrompt(r);
    const promptFile = prompt ? `runs/${safeName(r.id)}.prompt.json` : null;
    if (prompt && promptFile) files[promptFile] = strToU8(serializePromptFile(prompt));
    return { ...(toJson(r) as object), promptFile };
  });
  const ws = p.workspace;
  const json = {
    format: PROJECT_FORMAT,
    version: PROJECT_VERSION,
    created: new Date().toISOString(),
    model: p.model,
    classes: ws.classes.map((c) => ({ name: c.name, images: c.images.map((i) => ({ file: ref(i.key), name: i.name, split: i.split, ...(i.error ? { error: i.error } : {}) })), ...(c.new ? { new: true } : {}) })),
    extraSets: ws.extraSets.map((e) => ({ name: e.name, items: e.items.map((i) => ({ file: ref(i.key), name: i.name, label: i.label })) })),
    holdOut: ws.holdOut,
    settings: ws.settings,
    position: ws.position,
    activeRunId: ws.activeRunId,
    overlay: ws.overlay,
    runs,
  };
  files['project.json'] = strToU8(JSON.stringify(json));
  return zipSync(files, { level: 6 });
}

export interface ReadOptions {
  /** The file's name, for messages. */
  fileName: string;
  /** Whether the model folder is available here (bundled or added). */
  hasModel: (folder: string, id: string) => boolean;
  /** The text width D and fingerprint of the named model, to check the runs' prompt files; null to skip. */
  promptModel?: (folder: string) => { id: string; fingerprint: string; width: number } | null;
  mimeOf?: (name: string) => string;
}

const MIME: Record<string, string> = { jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', gif: 'image/gif', bmp: 'image/bmp' };
const mimeByExt = (name: string) => MIME[name.split('.').pop()?.toLowerCase() ?? ''] ?? 'application/octet-stream';

/** One entry of a zip's central directory, as fflate reports it before inflating anything. */
interface ZipEntry {
  name: string;
  /** Bytes stored in the zip. */
  size: number;
  /** Bytes it declares to inflate to. */
  originalSize: number;
  compression: number;
}

/** The limit an entry is held to, by what it is in a project. */
function entryLimit(entry: string): number {
  if (entry === 'project.json') return LIMITS.projectJsonBytes;
  if (entry.endsWith('.prompt.json')) return LIMITS.projectPromptBytes;
  return LIMITS.projectImageBytes;
}

/**
 * Reads the central directory only (fflate's filter sees each entry's declared sizes and inflates none) and refuses
 * a zip that would inflate past the limits: too many entries, an entry larger than anything a project holds, a
 * total over the cap, or a compression ratio no real image or JSON has. A zip that lies in its central directory
 * cannot get past this either: fflate inflates each entry into a buffer of the declared size and no larger.
 */
function checkZipEntries(bytes: Uint8Array, name: string): ZipEntry[] {
  const entries: ZipEntry[] = [];
  unzipSync(bytes, {
    filter: (f) => {
      entries.push({ name: f.name, size: f.size, originalSize: f.originalSize, compression: f.compression });
      checkCount(`${name}`, entries.length, LIMITS.projectEntries, 'entries', 'no project holds that many files');
      return false;
    },
  });
  let total = 0;
  let stored = 0;
  for (const e of entries) {
    const what = `${e.name} in ${name}`;
    // A declared compressed size larger than the file is a lie the ratio check below would otherwise believe.
    stored += e.size;
    if (stored > bytes.length) throw new Error(`its central directory declares ${bytesText(stored)} of entries in a file of ${bytesText(bytes.length)}`);
    checkBytes(`${what} (inflated)`, e.originalSize, entryLimit(e.name), 'the file is not a project this app can open');
    if (e.originalSize > LIMITS.projectRatioFloorBytes && e.originalSize > e.size * LIMITS.projectRatio) {
      throw new TooLargeError(
        `${what}, compressed ${Math.round(e.originalSize / Math.max(1, e.size))}:1 (${bytesText(e.size)} inflating to ${bytesText(e.originalSize)}),`,
        'a compression ratio no image or project.json has',
        `${LIMITS.projectRatio}:1`,
        'the file is made to exhaust memory (a zip bomb), not a project',
      );
    }
    total += e.originalSize;
  }
  checkBytes(`${name} inflated (all entries together)`, total, LIMITS.projectTotalBytes, 'split the project, or save it with fewer images');
  // Small entries are exempt from the ratio check one by one, not together: what all of them inflate to is held to
  // the ratio times the file's size (plus room for a small project's JSON), so a small file never allocates much.
  const byRatio = bytes.length * LIMITS.projectRatio + LIMITS.projectTotalFloorBytes;
  if (total > byRatio) {
    throw new TooLargeError(
      `${name} inflated (all entries together)`,
      bytesText(total),
      `${bytesText(byRatio)} for a file of ${bytesText(bytes.length)} (${LIMITS.projectRatio}:1, plus ${bytesText(LIMITS.projectTotalFloorBytes)})`,
      'the file is made to exhaust memory (a zip bomb), not a project',
    );
  }
  return entries;
}

/** The image files named in project.json (classes and test sets) and the runs' prompt files. */
function listedFiles(json: Record<string, unknown>): Set<string> {
  const out = new Set<string>();
  const add = (f: unknown) => typeof f === 'string' && out.add(f);
  const list = (v: unknown) => (Array.isArray(v) ? (v as unknown[]) : []);
  const field = (v: unknown, k: string) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined);
  for (const c of list(json.classes)) for (const i of list(field(c, 'images'))) add(field(i, 'file'));
  for (const e of list(json.extraSets)) for (const i of list(field(e, 'items'))) add(field(i, 'file'));
  for (const r of list(json.runs)) add(field(r, 'promptFile'));
  return out;
}

/** Refuses an image whose header declares more pixels than the app decodes, before it is stored or decoded. */
function checkImageHeader(data: Uint8Array, what: string): void {
  const size = sniffImageSize(data.subarray(0, 256 * 1024));
  if (size && size.width * size.height > MAX_IMAGE_PIXELS) {
    throw new TooLargeError(
      `${what}`,
      `${size.width}×${size.height} pixels by its header (${Math.round(size.width * size.height / 1e6)} megapixels)`,
      `${MAX_IMAGE_PIXELS / 1e6} megapixels`,
      'the app decodes no larger image',
    );
  }
}

export function readProject(bytes: Uint8Array, opts: ReadOptions): ReadResult {
  const name = opts.fileName;
  const fail = (error: string): ReadResult => ({ ok: false, error });
  if (bytes[0] === 0x7b /* { */) return fail(`${name} is a JSON file, not a project (a zip): if it is a learned prompt, use Import JSON.`);
  let entries: ZipEntry[];
  try {
    entries = checkZipEntries(bytes, name);
  } catch (e) {
    if (e instanceof TooLargeError) return fail(`${e.message}. Nothing was opened; the current session is kept.`);
    return fail(`${name} is not a readable zip file (damaged or cut short: ${(e as Error).message}). Save the project again from where it came from.`);
  }
  if (!entries.some((e) => e.name === 'project.json')) return fail(`${name} is a zip without project.json: it is not a CoOp Playground project.`);
  let files: Record<string, Uint8Array>;
  try {
    files = Object.assign(Object.create(null), unzipSync(bytes, { filter: (f) => f.name === 'project.json' }));
  } catch (e) {
    return fail(`${name} is not a readable zip file (damaged or cut short: ${(e as Error).message}). Save the project again from where it came from.`);
  }
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(strFromU8(files['project.json']));
  } catch (e) {
    return fail(`project.json in ${name} is not valid JSON (${(e as Error).message}): the file is damaged.`);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) return fail(`project.json in ${name} is not a JSON object: it is not a CoOp Playground project.`);
  if (json?.format !== PROJECT_FORMAT) return fail(`${name} is a "${String(json?.format)}" file, not a CoOp Playground project (format "${PROJECT_FORMAT}").`);
  if (json.version !== PROJECT_VERSION) {
    const newer = typeof json.version === 'number' && json.version > PROJECT_VERSION;
    return fail(`${name} is a version ${String(json.version)} project; this app reads version ${PROJECT_VERSION}${newer ? ': it was saved by a newer version of the app' : ''}.`);
  }
  const model = json.model as ProjectContents['model'] | undefined;
  if (!model || typeof model.folder !== 'string' || typeof model.id !== 'string') return fail(`project.json in ${name} names no model: the file is damaged.`);
  if (!opts.hasModel(model.folder, model.id)) {
    return fail(`${name} was made with the model "${model.id}" (folder "${model.folder}"), which is not available here. Add that model with the model picker, then open the project again.`);
  }
  try {
    const wanted = listedFiles(json);
    Object.assign(files, unzipSync(bytes, { filter: (f) => f.name !== 'project.json' && wanted.has(f.name) }));
    for (const [file, data] of Object.entries(files)) if (file !== 'project.json' && !file.endsWith('.prompt.json')) checkImageHeader(data, `${file} in ${name}`);
  } catch (e) {
    if (e instanceof TooLargeError) return fail(`${e.message}. Nothing was opened; the current session is kept.`);
    return fail(`${name} is not a readable zip file (damaged or cut short: ${(e as Error).message}). Save the project again from where it came from.`);
  }
  // Own entries only: an entry named "__proto__" or "constructor" must not reach Object.prototype.
  const has = (file: unknown): file is string => typeof file === 'string' && Object.hasOwn(files, file) && files[file] instanceof Uint8Array;
  const images = new Map<string, StoredImage>();
  const image = (file: unknown, imgName: unknown): string => {
    if (!has(file)) throw new Error(`${String(file)} is listed in project.json but missing from the zip`);
    if (!images.has(file)) images.set(file, { key: file, name: String(imgName ?? file), blob: new Blob([files[file] as Uint8Array<ArrayBuffer>], { type: (opts.mimeOf ?? mimeByExt)(file) }) });
    return file;
  };
  try {
    const classes = (json.classes as Array<{ name: string; new?: unknown; images: Array<{ file: string; name: string; split: 'train' | 'test'; error?: string }> }>).map((c) => ({
      name: String(c.name),
      // Absent in projects saved before base-to-new: a base class.
      ...(c.new === true ? { new: true } : {}),
      images: c.images.map((i) => ({ key: image(i.file, i.name), name: String(i.name), split: i.split === 'test' ? ('test' as const) : ('train' as const), ...(i.error ? { error: i.error } : {}) })),
    }));
    const extraSets = ((json.extraSets ?? []) as Array<{ name: string; items: Array<{ file: string; name: string; label: string }> }>).map((e) => ({
      name: String(e.name),
      items: e.items.map((i) => ({ key: image(i.file, i.name), name: String(i.name), label: String(i.label) })),
    }));
    const workspace: WorkspaceRecord = {
      version: WORKSPACE_VERSION,
      model: model.folder,
      classes,
      extraSets,
      holdOut: Number(json.holdOut ?? 0.25),
      settings: json.settings as WorkspaceRecord['settings'],
      position: (json.position as WorkspaceRecord['position']) ?? 'end',
      activeRunId: (json.activeRunId as string | null) ?? null,
      overlay: Array.isArray(json.overlay) ? (json.overlay as string[]) : [],
    };
    const badWs = checkWorkspace(workspace);
    if (badWs) return fail(`project.json in ${name} has ${badWs}: the file is damaged.`);
    const runs: RunRecord[] = [];
    const checkModel = opts.promptModel?.(model.folder) ?? null;
    for (const raw of (json.runs ?? []) as Array<Record<string, unknown>>) {
      const { promptFile, ...rest } = raw;
      const run = fromJson(rest) as RunRecord;
      const bad = checkRun(run);
      if (bad) return fail(`run "${String(raw.name)}" in ${name} has ${bad}: the file is damaged.`);
      if (typeof promptFile === 'string') {
        if (!has(promptFile)) return fail(`${promptFile} is listed in project.json but missing from ${name}: the file is damaged.`);
        if (checkModel && run.view) {
          const parsed = parsePromptFile(strFromU8(files[promptFile]), checkModel);
          if (!parsed.ok) return fail(`The prompt file ${promptFile} in ${name} is refused: ${parsed.error}`);
          // The prompt file is what the run's predictions come from (its extras and method with it).
          run.view = { ...run.view, context: parsed.prompt.context };
          if (parsed.prompt.method) run.method = parsed.prompt.method;
        }
      }
      runs.push(run);
    }
    return { ok: true, project: { workspace, images: [...images.values()], runs, model } };
  } catch (e) {
    if (e instanceof RangeError && /call stack/i.test(e.message)) return fail(`project.json in ${name} nests its values deeper than any project: it is not one this app wrote.`);
    return fail(`${name} is damaged: ${(e as Error).message}.`);
  }
}
