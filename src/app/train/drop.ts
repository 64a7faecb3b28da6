/**
 * Files out of a drop or a paste. A dropped folder is walked recursively (webkitGetAsEntry: the only folder
 * access every browser gives a drop), so a whole class directory can be dropped on its card.
 */

export interface DroppedFile {
  blob: Blob;
  name: string;
}

type Entry = FileSystemEntry;

function readAll(dir: FileSystemDirectoryEntry): Promise<Entry[]> {
  const reader = dir.createReader();
  const out: Entry[] = [];
  // readEntries returns at most ~100 entries per call; it signals the end with an empty batch.
  return new Promise((resolve, reject) => {
    const next = () =>
      reader.readEntries((batch) => {
        if (batch.length === 0) return resolve(out);
        out.push(...batch);
        next();
      }, reject);
    next();
  });
}

async function walk(entry: Entry, path: string, out: DroppedFile[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.push({ blob: file, name: path + file.name });
  } else if (entry.isDirectory) {
    const children = await readAll(entry as FileSystemDirectoryEntry);
    children.sort((a, b) => a.name.localeCompare(b.name));
    for (const c of children) await walk(c, `${path}${entry.name}/`, out);
  }
}

/** Every file in a drop, folders included (hidden files skipped). */
export async function filesFromDataTransfer(dt: DataTransfer): Promise<DroppedFile[]> {
  const entries = [...dt.items]
    .filter((i) => i.kind === 'file')
    .map((i) => (typeof i.webkitGetAsEntry === 'function' ? i.webkitGetAsEntry() : null));
  if (entries.length === 0 || entries.some((e) => e === null)) {
    return [...dt.files].map((f) => ({ blob: f, name: f.name }));
  }
  const out: DroppedFile[] = [];
  for (const e of entries) await walk(e!, '', out);
  return out.filter((f) => !f.name.split('/').pop()!.startsWith('.'));
}

/** Images pasted from the clipboard (a screenshot, a copied image). */
export function filesFromClipboard(data: DataTransfer | null): DroppedFile[] {
  if (!data) return [];
  const files = [...data.items].filter((i) => i.kind === 'file').map((i) => i.getAsFile()).filter((f): f is File => f !== null);
  const stamp = new Date().toISOString().slice(11, 19).replace(/:/g, '');
  return files.map((f, i) => ({ blob: f, name: f.name && f.name !== 'image.png' ? f.name : `pasted-${stamp}-${i + 1}.${(f.type.split('/')[1] || 'png')}` }));
}
