/**
 * Adding a model to the browser store, from the hub or a folder: ask every file's size first (a 404 or a missing
 * dtype stops here, before anything is stored) after the loader has read the small files at the origin and refused
 * a folder that is not CLIP; check the quota; then copy the small files and the two towers, one after the other,
 * with progress. A dropped connection leaves
 * what arrived on disk; adding again (Resume) continues each file with a Range request. Nothing of any other
 * stored model is touched, and a refused model's own directory is removed again.
 */
import { ModelFileError } from '../errors';
import type { ModelSource } from '../source';
import { MODEL_FILES, towerPath } from '../types';
import { BrowserModelStore, checkQuota, storeKey, type StoredModelMeta, type StoredOrigin, type TextDtype, type VisionDtype } from './browser-store';
import { FolderSource } from './folder';
import { downloadHubFile, hubFileInfo, HubSource, type FileSink } from './hub';
import { TransferProgress, type TransferSnapshot } from './transfer';

/** The tower files for each dtype the store offers, where the loader looks for them (towerPath). */
export const TOWER_FILES = {
  text: { fp32: towerPath('text', 'fp32'), fp16: towerPath('text', 'fp16') },
  vision: { fp32: towerPath('vision', 'fp32'), fp16: towerPath('vision', 'fp16'), quantized: towerPath('vision', 'quantized') },
} as const;

/** What the loader reads before any tower; `manifest.json` only where present. */
export const SMALL_FILES = [MODEL_FILES.config, MODEL_FILES.preprocessor, MODEL_FILES.tokenizer] as const;
export const OPTIONAL_FILES = [MODEL_FILES.manifest] as const;

export interface AddRequest {
  from: HubSource | FolderSource;
  visionDtype: VisionDtype;
  textDtype: TextDtype;
}

export interface AddOptions {
  onProgress?: (s: TransferSnapshot) => void;
  signal?: AbortSignal;
  /** The loader's check of the small files at the origin (describeModel): throws to refuse the model. */
  check: (source: ModelSource) => Promise<void>;
  /** For tests: free bytes (navigator.storage.estimate() otherwise). */
  freeBytes?: () => Promise<number>;
}

function originOf(from: HubSource | FolderSource): StoredOrigin {
  return from instanceof HubSource ? { kind: 'hub', ...from.location } : { kind: 'folder', name: from.name };
}

/** Sizes of the files to store (small files, manifest.json where present, the two towers in the dtypes asked); throws before anything is written when one is missing. */
export async function filesToStore(from: HubSource | FolderSource, req: AddRequest, signal?: AbortSignal): Promise<Record<string, number>> {
  const text = TOWER_FILES.text[req.textDtype];
  const vision = TOWER_FILES.vision[req.visionDtype];
  const sizes: Record<string, number> = {};
  const sizeOf = async (path: string): Promise<number> => {
    if (from instanceof HubSource) return (await hubFileInfo(from.location, path, signal)).size;
    const f = from.file(path);
    if (!f) throw new ModelFileError(from.describe(path), 'is missing: pick the model folder itself (the one holding config.json and onnx/)');
    return f.size;
  };
  for (const path of SMALL_FILES) sizes[path] = await sizeOf(path);
  for (const path of OPTIONAL_FILES) if (await from.has(path, signal)) sizes[path] = await sizeOf(path);
  for (const [path, kind] of [[text, 'text'], [vision, 'vision']] as const) {
    try {
      sizes[path] = await sizeOf(path);
    } catch (e) {
      if (!(e instanceof ModelFileError) || !/missing/.test(e.message)) throw e;
      // Say which dtypes the repo does have, so the person can pick one.
      const others = Object.entries(TOWER_FILES[kind]).filter(([, p]) => p !== path);
      const present: string[] = [];
      for (const [dtype, p] of others) if (await from.has(p, signal).catch(() => false)) present.push(dtype);
      const hint = present.length ? ` It has the ${kind} tower as ${present.join(', ')}: pick that dtype.` : '';
      const detail = e.message.startsWith(e.file) ? e.message.slice(e.file.length + 1) : e.message;
      throw new ModelFileError(e.file, detail + hint);
    }
  }
  return sizes;
}

async function copyFile(file: File, sink: FileSink, onBytes: (n: number) => void, signal?: AbortSignal): Promise<void> {
  const offset = Math.min(await sink.existing(), file.size);
  if (offset === file.size && offset > 0) return;
  const writer = await sink.open(offset);
  try {
    const reader = file.slice(offset).stream().getReader();
    for (;;) {
      signal?.throwIfAborted();
      const { done, value } = await reader.read();
      if (done) break;
      await writer.write(value);
      onBytes(value.byteLength);
    }
  } finally {
    await writer.close();
  }
}

/**
 * Adds (or resumes adding) a model to the store and returns its record. A model already stored whole is returned
 * as it is.
 */
export async function addModel(store: BrowserModelStore, req: AddRequest, options: AddOptions): Promise<StoredModelMeta> {
  const { signal } = options;
  const { from } = req;
  const origin = originOf(from);
  const key = storeKey(origin, req.visionDtype, req.textDtype);
  const existing = await store.get(key);
  if (existing?.complete) return existing;

  // The loader reads the small files at the origin and refuses what is not CLIP before anything is stored.
  await options.check(from);
  const sizes = await filesToStore(from, req, signal);
  const meta: StoredModelMeta = {
    key,
    name: from.name,
    origin,
    visionDtype: req.visionDtype,
    textDtype: req.textDtype,
    files: sizes,
    logitScale: existing?.logitScale,
    complete: false,
    addedAt: existing?.addedAt ?? new Date().toISOString(),
  };
  const progress = new TransferProgress();
  let needed = 0;
  for (const [path, size] of Object.entries(sizes)) {
    const held = existing ? Math.min(await store.bytesHeld(key, path), size) : 0;
    progress.expect(path, size, held);
    needed += size - held;
  }
  const what = from instanceof HubSource ? from.location.repo : `the folder ${from.name}`;
  await checkQuota(needed, what, options.freeBytes);
  await store.writeMeta(meta);
  const report = () => options.onProgress?.(progress.snapshot());
  report();

  const fetchOne = async (path: string) => {
    const sink = store.sink(key, path, what, sizes[path]);
    const onBytes = (n: number) => {
      progress.add(path, n);
      report();
    };
    if (from instanceof HubSource) {
      await downloadHubFile(from.location, path, sink, { signal, onBytes, onRestart: () => progress.restart(path) });
    } else {
      await copyFile(from.file(path)!, sink, onBytes, signal);
    }
    progress.finish(path);
    report();
  };

  // Small files first: a dropped connection then costs least, and the towers' order matches the progress bars.
  const order = Object.keys(sizes).sort((a, b) => Number(a.startsWith('onnx/')) - Number(b.startsWith('onnx/')));
  for (const path of order) await fetchOne(path);
  const done = { ...meta, complete: true };
  await store.writeMeta(done);
  return done;
}
