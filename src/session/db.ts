/**
 * The session's IndexedDB, through `idb` (a thin promise wrapper: no hand-written request plumbing). Three stores:
 * `images` (the original files as Blobs, by key), `runs` (one record per run, by id) and `meta` (the workspace).
 * Every save is one transaction, so a save that fails (over the quota) leaves everything saved before as it was.
 */
import { openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction, type StoreNames } from 'idb';
import { checkImage, checkRun, checkWorkspace, type RunRecord, type StoredImage, type WorkspaceRecord } from './records';

export const DB_NAME = 'coop-playground';
const DB_VERSION = 1;

interface SessionDB extends DBSchema {
  images: { key: string; value: StoredImage };
  runs: { key: string; value: RunRecord };
  meta: { key: string; value: WorkspaceRecord };
}

let dbPromise: Promise<IDBPDatabase<SessionDB>> | null = null;

function db(): Promise<IDBPDatabase<SessionDB>> {
  dbPromise ??= openDB<SessionDB>(DB_NAME, DB_VERSION, {
    upgrade(d) {
      d.createObjectStore('images', { keyPath: 'key' });
      d.createObjectStore('runs', { keyPath: 'id' });
      d.createObjectStore('meta');
    },
  });
  return dbPromise;
}

export interface LoadedSession {
  workspace: WorkspaceRecord | null;
  images: Map<string, StoredImage>;
  runs: RunRecord[];
  /** Records that could not be read, each named, and skipped. */
  problems: string[];
}

/** Every value of a store; a value that cannot even be read back is reported by its key and skipped. */
async function readAll<S extends 'images' | 'runs'>(d: IDBPDatabase<SessionDB>, store: S, problems: string[]): Promise<unknown[]> {
  try {
    return await d.getAll(store);
  } catch {
    const out: unknown[] = [];
    const keys = await d.getAllKeys(store);
    for (const key of keys) {
      try {
        out.push(await d.get(store, key));
      } catch (e) {
        problems.push(`${store === 'runs' ? 'run' : 'image'} ${String(key)}: ${(e as Error).message}`);
      }
    }
    return out;
  }
}

export async function loadSession(): Promise<LoadedSession> {
  const d = await db();
  const problems: string[] = [];
  let workspace: WorkspaceRecord | null = null;
  const raw = await d.get('meta', 'workspace').catch((e: Error) => {
    problems.push(`the workspace: ${e.message}`);
    return undefined;
  });
  if (raw !== undefined) {
    const bad = checkWorkspace(raw);
    if (bad) problems.push(`the workspace (classes and settings): ${bad}`);
    else workspace = raw;
  }
  const images = new Map<string, StoredImage>();
  for (const i of await readAll(d, 'images', problems)) {
    const bad = checkImage(i);
    if (bad) problems.push(`an image: ${bad}`);
    else images.set((i as StoredImage).key, i as StoredImage);
  }
  const runs: RunRecord[] = [];
  for (const r of await readAll(d, 'runs', problems)) {
    const bad = checkRun(r);
    const name = (r as { name?: unknown })?.name;
    if (bad) problems.push(`run ${typeof name === 'string' ? `"${name}"` : '(unnamed)'}: ${bad}`);
    else runs.push(r as RunRecord);
  }
  runs.sort((a, b) => a.created.localeCompare(b.created));
  return { workspace, images, runs, problems };
}

/**
 * Runs `writes` in `tx` and waits for the commit; if any request fails (the quota), the transaction is aborted so
 * none of it is kept: all of this save, or none of it.
 */
async function allOrNone<S extends StoreNames<SessionDB>[]>(tx: IDBPTransaction<SessionDB, S, 'readwrite'>, writes: (tx: IDBPTransaction<SessionDB, S, 'readwrite'>) => Promise<void>): Promise<void> {
  // Awaited below or after an abort; never an unhandled rejection.
  const done = tx.done.catch((e: unknown) => Promise.reject(e));
  done.catch(() => {});
  try {
    await writes(tx);
    await done;
  } catch (e) {
    try {
      tx.abort();
    } catch {
      // already aborted by the browser
    }
    throw e;
  }
}

/** The workspace with the images it added and those it dropped, in one transaction. */
export async function saveWorkspace(ws: WorkspaceRecord, added: StoredImage[], removed: string[]): Promise<void> {
  const d = await db();
  await allOrNone(d.transaction(['meta', 'images'], 'readwrite'), async (tx) => {
    const images = tx.objectStore('images');
    for (const i of added) await images.put(i);
    for (const k of removed) await images.delete(k);
    await tx.objectStore('meta').put(ws, 'workspace');
  });
}

export async function saveRun(run: RunRecord): Promise<void> {
  const d = await db();
  await d.put('runs', run);
}

export async function deleteRun(id: string): Promise<void> {
  const d = await db();
  await d.delete('runs', id);
}

/** Everything, in one transaction. */
export async function clearAll(): Promise<void> {
  const d = await db();
  const tx = d.transaction(['meta', 'images', 'runs'], 'readwrite');
  await Promise.all([tx.objectStore('meta').clear(), tx.objectStore('images').clear(), tx.objectStore('runs').clear(), tx.done]);
}

/**
 * The whole session replaced by another (an opened project), in one transaction: if any write fails (the quota), the
 * transaction is aborted and the session saved before is still there, whole.
 */
export async function replaceSession(ws: WorkspaceRecord, images: StoredImage[], runs: RunRecord[]): Promise<void> {
  const d = await db();
  await allOrNone(d.transaction(['meta', 'images', 'runs'], 'readwrite'), async (tx) => {
    await Promise.all([tx.objectStore('meta').clear(), tx.objectStore('images').clear(), tx.objectStore('runs').clear()]);
    for (const i of images) await tx.objectStore('images').put(i);
    for (const r of runs) await tx.objectStore('runs').put(r);
    await tx.objectStore('meta').put(ws, 'workspace');
  });
}
