/**
 * A model folder picked from disk (showDirectoryPicker, an <input webkitdirectory>) or dropped on the page
 * (DataTransferItem.webkitGetAsEntry), as a ModelSource. The files are read only when asked for, so the loader can
 * refuse a folder that is not CLIP before the large ONNX files are touched.
 */
import { ModelFileError } from '../errors';
import { checkReadSize, type ModelSource, type ReadOptions } from '../source';

export class FolderSource implements ModelSource {
  readonly kind = 'folder' as const;

  /** `files`: path relative to the folder root ('/'-separated) → file. */
  constructor(
    readonly name: string,
    private readonly files: Map<string, File>,
  ) {}

  describe(path: string): string {
    return `${this.name}/${path}`;
  }

  async has(path: string): Promise<boolean> {
    return this.files.has(path);
  }

  async size(path: string): Promise<number | undefined> {
    return this.files.get(path)?.size;
  }

  file(path: string): File | undefined {
    return this.files.get(path);
  }

  async read(path: string, options: ReadOptions = {}): Promise<Uint8Array> {
    const file = this.files.get(path);
    if (!file) throw new ModelFileError(this.describe(path), 'is missing: pick the model folder itself (the one holding config.json and onnx/)');
    options.signal?.throwIfAborted();
    checkReadSize(this.describe(path), file.size, options);
    const bytes = new Uint8Array(await file.arrayBuffer());
    options.onBytes?.(bytes.byteLength);
    return bytes;
  }
}

/** The folder a person chose with showDirectoryPicker. */
export async function folderFromHandle(dir: FileSystemDirectoryHandle): Promise<FolderSource> {
  const files = new Map<string, File>();
  const walk = async (d: FileSystemDirectoryHandle, prefix: string) => {
    for await (const [name, handle] of (d as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }).entries()) {
      if (handle.kind === 'file') files.set(prefix + name, await (handle as FileSystemFileHandle).getFile());
      else await walk(handle as FileSystemDirectoryHandle, `${prefix}${name}/`);
    }
  };
  await walk(dir, '');
  return new FolderSource(dir.name, files);
}

/** The files of an <input type="file" webkitdirectory>: each carries its path under the chosen folder. */
export function folderFromFileList(list: ArrayLike<File>): FolderSource {
  const files = new Map<string, File>();
  let root = '';
  for (const file of Array.from(list)) {
    const rel = (file as File & { webkitRelativePath?: string }).webkitRelativePath || file.name;
    const [first, ...rest] = rel.split('/');
    root ||= rest.length ? first : '';
    files.set(rest.length ? rest.join('/') : first, file);
  }
  if (!files.size) throw new Error('The chosen folder is empty: pick the model folder (the one holding config.json and onnx/)');
  return new FolderSource(root || 'folder', files);
}

/** A folder dropped on the page; null when the drop holds no folder. */
export async function folderFromDrop(items: DataTransferItemList): Promise<FolderSource | null> {
  const entry = Array.from(items)
    .map((i) => i.webkitGetAsEntry?.())
    .find((e): e is FileSystemDirectoryEntry => !!e?.isDirectory);
  if (!entry) return null;
  const files = new Map<string, File>();
  const readAll = (reader: FileSystemDirectoryReader) =>
    new Promise<FileSystemEntry[]>((ok, fail) => {
      const all: FileSystemEntry[] = [];
      // readEntries hands out at most ~100 entries per call; an empty batch ends the listing.
      const next = () => reader.readEntries((batch) => (batch.length ? (all.push(...batch), next()) : ok(all)), fail);
      next();
    });
  const walk = async (dir: FileSystemDirectoryEntry, prefix: string) => {
    for (const e of await readAll(dir.createReader())) {
      if (e.isFile) files.set(prefix + e.name, await new Promise<File>((ok, fail) => (e as FileSystemFileEntry).file(ok, fail)));
      else if (e.isDirectory) await walk(e as FileSystemDirectoryEntry, `${prefix}${e.name}/`);
    }
  };
  await walk(entry, '');
  return new FolderSource(entry.name, files);
}
