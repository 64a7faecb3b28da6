/**
 * The browser's own model store, in the Origin Private File System (OPFS): one directory per added model, holding
 * its files in the transformers.js layout plus `coop-model.json` (where it came from, the dtypes picked, the
 * expected sizes, the logit scale as edited, and whether every file has arrived).
 *
 * OPFS rather than Cache Storage (which transformers.js uses): a download can append to a file, so an interrupted
 * one resumes from what is on disk instead of starting over, and the training worker reads the same files
 * (navigator.storage.getDirectory() works in workers) without a second download. Loading a stored model touches
 * no network.
 */
import { ModelFileError } from '../errors';
import { checkReadSize, type ModelSource, type ReadOptions } from '../source';
import type { FileSink, SinkWriter } from './hub';
import { formatMB } from './transfer';

export type VisionDtype = 'fp32' | 'fp16' | 'quantized';
export type TextDtype = 'fp32' | 'fp16';

export type StoredOrigin =
  | { kind: 'hub'; repo: string; revision: string; endpoint: string }
  | { kind: 'folder'; name: string };

export interface StoredModelMeta {
  /** The store's directory name: unique per origin and dtypes. */
  key: string;
  /** The model's name as its origin gives it (the repo's last part, the folder's name). */
  name: string;
  origin: StoredOrigin;
  visionDtype: VisionDtype;
  textDtype: TextDtype;
  /** Every file to hold, relative to the folder, with its size in bytes. */
  files: Record<string, number>;
  /** As edited by the person; the loader's default (manifest or 100) when absent. */
  logitScale?: number;
  /** All files arrived whole. */
  complete: boolean;
  addedAt: string;
}

export interface StoredModel extends StoredModelMeta {
  /** Bytes on disk now. */
  bytes: number;
}

const ROOT = 'coop-models';
const META = 'coop-model.json';

export function storeKey(origin: StoredOrigin, visionDtype: VisionDtype, textDtype: TextDtype): string {
  const parts = origin.kind === 'hub' ? ['hub', ...origin.repo.split('/'), origin.revision] : ['folder', origin.name];
  return [...parts, `v-${visionDtype}`, `t-${textDtype}`].map((p) => p.replace(/[^A-Za-z0-9._-]/g, '_')).join('--');
}

/** Not enough room: says how much is needed and how much is free. */
export class QuotaError extends Error {
  constructor(
    readonly needed: number,
    readonly free: number,
    what: string,
  ) {
    super(quotaMessage(needed, free, what));
    this.name = 'QuotaError';
  }
}

export function quotaMessage(needed: number, free: number, what: string): string {
  return `${what} needs ${formatMB(needed)} more in the browser's storage, but only ${formatMB(Math.max(0, free))} is free. Remove a stored model (Remove in the model list) or free disk space, then try again.`;
}

/** Free bytes as the browser reports them (navigator.storage.estimate()); Infinity where it cannot tell. */
export async function freeStorage(): Promise<number> {
  const est = await navigator.storage?.estimate?.();
  if (!est || est.quota === undefined) return Infinity;
  return est.quota - (est.usage ?? 0);
}

export async function checkQuota(needed: number, what: string, free: () => Promise<number> = freeStorage): Promise<void> {
  if (needed <= 0) return;
  const f = await free();
  if (needed > f) throw new QuotaError(needed, f, what);
}

function isQuotaError(e: unknown): boolean {
  return e instanceof DOMException && e.name === 'QuotaExceededError';
}

async function fileIn(dir: FileSystemDirectoryHandle, path: string, create: boolean): Promise<FileSystemFileHandle> {
  const parts = path.split('/');
  let d = dir;
  for (const p of parts.slice(0, -1)) d = await d.getDirectoryHandle(p, { create });
  return d.getFileHandle(parts[parts.length - 1], { create });
}

async function sizeOf(dir: FileSystemDirectoryHandle, path: string): Promise<number> {
  try {
    return (await (await fileIn(dir, path, false)).getFile()).size;
  } catch {
    return 0;
  }
}

export class BrowserModelStore {
  private constructor(private readonly root: FileSystemDirectoryHandle) {}

  static async open(): Promise<BrowserModelStore> {
    if (!navigator.storage?.getDirectory) throw new Error('This browser has no Origin Private File System (navigator.storage.getDirectory), so added models cannot be stored; use a recent Chrome, Edge or Firefox');
    const opfs = await navigator.storage.getDirectory();
    return new BrowserModelStore(await opfs.getDirectoryHandle(ROOT, { create: true }));
  }

  private async dir(key: string, create = false): Promise<FileSystemDirectoryHandle> {
    return this.root.getDirectoryHandle(key, { create });
  }

  async list(): Promise<StoredModel[]> {
    const out: StoredModel[] = [];
    for await (const [name, handle] of (this.root as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }).entries()) {
      if (handle.kind !== 'directory') continue;
      const model = await this.get(name).catch(() => null);
      if (model) out.push(model);
    }
    return out.sort((a, b) => a.addedAt.localeCompare(b.addedAt));
  }

  async get(key: string): Promise<StoredModel | null> {
    let dir: FileSystemDirectoryHandle;
    try {
      dir = await this.dir(key);
    } catch {
      return null;
    }
    let meta: StoredModelMeta;
    try {
      meta = JSON.parse(await (await (await dir.getFileHandle(META)).getFile()).text()) as StoredModelMeta;
    } catch {
      return null;
    }
    let bytes = 0;
    for (const path of Object.keys(meta.files)) bytes += await sizeOf(dir, path);
    return { ...meta, bytes };
  }

  async writeMeta(meta: StoredModelMeta): Promise<void> {
    const dir = await this.dir(meta.key, true);
    const w = await (await dir.getFileHandle(META, { create: true })).createWritable();
    await w.write(JSON.stringify(meta, null, 1));
    await w.close();
  }

  async bytesHeld(key: string, path: string): Promise<number> {
    return sizeOf(await this.dir(key, true), path);
  }

  /** A download's sink: the file itself, appended to in place (a partial file is what a resume continues). */
  sink(key: string, path: string, what: string, size: number): FileSink {
    return {
      existing: () => this.bytesHeld(key, path),
      open: async (offset: number): Promise<SinkWriter> => {
        const handle = await fileIn(await this.dir(key, true), path, true);
        const writable = await handle.createWritable({ keepExistingData: offset > 0 });
        await writable.truncate(offset);
        await writable.seek(offset);
        let at = offset;
        let aborted = false;
        const quota = async (e: unknown) => {
          if (!isQuotaError(e)) throw e;
          aborted = true;
          await writable.abort().catch(() => {});
          throw new QuotaError(Math.max(1, size - at), await freeStorage(), `${what} (${path})`);
        };
        return {
          write: async (chunk) => {
            await writable.write(chunk as Uint8Array<ArrayBuffer>).catch(quota);
            at += chunk.byteLength;
          },
          close: async () => {
            if (!aborted) await writable.close().catch(quota);
          },
        };
      },
    };
  }

  async setLogitScale(key: string, logitScale: number | undefined): Promise<void> {
    const m = await this.get(key);
    if (!m) throw new Error(`No stored model ${key}`);
    const { bytes: _b, ...meta } = m;
    await this.writeMeta({ ...meta, logitScale });
  }

  async remove(key: string): Promise<void> {
    await this.root.removeEntry(key, { recursive: true });
  }

  source(meta: StoredModelMeta): StoreSource {
    return new StoreSource(this.root, meta);
  }
}

/** A stored model's files as a ModelSource: read from OPFS only, never the network. */
export class StoreSource implements ModelSource {
  readonly kind = 'stored' as const;
  readonly name: string;

  constructor(
    private readonly root: FileSystemDirectoryHandle,
    readonly meta: StoredModelMeta,
  ) {
    this.name = meta.name;
  }

  /** Opens the store from any thread (the training worker too). */
  static async open(meta: StoredModelMeta): Promise<StoreSource> {
    const opfs = await navigator.storage.getDirectory();
    return new StoreSource(await opfs.getDirectoryHandle(ROOT), meta);
  }

  describe(path: string): string {
    const from = this.meta.origin.kind === 'hub' ? this.meta.origin.repo : `folder ${this.meta.origin.name}`;
    return `stored model ${this.meta.name} (${from}): ${path}`;
  }

  private async file(path: string): Promise<File | null> {
    try {
      return await (await fileIn(await this.root.getDirectoryHandle(this.meta.key), path, false)).getFile();
    } catch {
      return null;
    }
  }

  async has(path: string): Promise<boolean> {
    return (await this.file(path)) !== null;
  }

  async size(path: string): Promise<number | undefined> {
    return (await this.file(path))?.size;
  }

  async read(path: string, options: ReadOptions = {}): Promise<Uint8Array> {
    const file = await this.file(path);
    if (!file) throw new ModelFileError(this.describe(path), 'is missing from the browser store: remove the model and add it again');
    options.signal?.throwIfAborted();
    checkReadSize(this.describe(path), file.size, options);
    const bytes = new Uint8Array(await file.arrayBuffer());
    options.onBytes?.(bytes.byteLength);
    return bytes;
  }
}
