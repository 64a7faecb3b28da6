/**
 * Keeps the Train page's session: restores it from IndexedDB at start, autosaves it as it changes, saves and opens
 * project files, keeps the settings in the URL hash, and reports the browser's storage. The Train store knows
 * nothing of storage; this store watches it and calls src/session/, the one interface to IndexedDB, zips and the hash.
 */
import { create } from 'zustand';
import {
  formatHash,
  hashSection,
  isQuotaError,
  parseHashSettings,
  readProject,
  requestPersistence,
  saveErrorMessage,
  sessionDb,
  storageInfo,
  writeProject,
  type RunRecord,
  type StorageInfo,
  type StoredImage,
  type WorkspaceRecord,
} from '../../session';
import { WORKSPACE_VERSION } from '../../session/records';
import { bytesText, LIMITS, TooLargeError } from '../../input-limits';
import { autosaveTimer } from '../../session/autosave';
import type { ExtraSet } from './train-store';
import { cardImage, useTrainStore } from './train-store';
import { STORED_PREFIX, useModelStore } from './model-store';
import { newId, type ClassCard } from '../train/class-cards';

interface SessionState {
  /** False until the saved session (if any) is on the page: autosave starts only then. */
  restored: boolean;
  /** Time a restore took (ms), for the record. */
  restoreMs: number | null;
  saving: boolean;
  /** A failed save: says what, and that everything saved before is kept. */
  saveError: string | null;
  lastSavedAt: number | null;
  /** The last run checkpoint known to be on disk: Resume after a reload continues from it. */
  savedCheckpoint: { runId: string; epoch: number } | null;
  /** Saved records that could not be read and were skipped. */
  problems: string[];
  storage: StorageInfo | null;
  projectError: string | null;
  projectMessage: string | null;
  /** What the session is doing with a project file ('Saving the project', …), or null. */
  projectBusy: string | null;

  restore(): Promise<void>;
  refreshStorage(): Promise<void>;
  saveProject(): Promise<{ bytes: Uint8Array; name: string } | null>;
  /**
   * Opens a project file in place of the session. A file that is refused changes nothing. Over work not saved as a
   * project file, `confirmReplace` is asked first (false keeps the session); without it, the project replaces it.
   */
  openProject(file: File, confirmReplace?: (message: string) => boolean): Promise<void>;
  clearAll(): Promise<void>;
}

/** Image keys by Blob: the same file is stored once, and a restored image is not written again. */
const blobKeys = new WeakMap<Blob, string>();
let savedImageKeys = new Set<string>();
const savedRuns = new Map<string, RunRecord>();
let workspaceDirty = false;
let runsDirty = false;
const AUTOSAVE_DELAY_MS = 300;
/** The longest a change waits for its save while more changes keep coming. */
const AUTOSAVE_MAX_WAIT_MS = 2000;

function keyOf(blob: Blob): string {
  let key = blobKeys.get(blob);
  if (!key) {
    key = `img-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
    blobKeys.set(blob, key);
  }
  return key;
}

/** The workspace record of the Train page now, and every image it refers to. */
function currentWorkspace(): { ws: WorkspaceRecord; images: Map<string, StoredImage> } {
  const t = useTrainStore.getState();
  const images = new Map<string, StoredImage>();
  const ref = (blob: Blob, name: string) => {
    const key = keyOf(blob);
    images.set(key, { key, name, blob });
    return key;
  };
  const ws: WorkspaceRecord = {
    version: WORKSPACE_VERSION,
    model: useModelStore.getState().selected,
    classes: t.cards.map((c) => ({ name: c.name, images: c.images.map((i) => ({ key: ref(i.blob, i.name), name: i.name, split: i.split, ...(i.error ? { error: i.error } : {}) })), ...(c.isNew ? { new: true } : {}) })),
    extraSets: t.extraSets.map((e) => ({ name: e.name, items: e.items.map((i) => ({ key: ref(i.blob, i.name), name: i.name, label: i.label })) })),
    holdOut: t.holdOut,
    settings: t.settings,
    position: t.position,
    activeRunId: t.activeRunId,
    overlay: t.overlay,
  };
  return { ws, images };
}

async function flush(): Promise<void> {
  const set = useSessionStore.setState;
  if (!useSessionStore.getState().restored) return;
  set({ saving: true });
  try {
    if (workspaceDirty) {
      workspaceDirty = false;
      const { ws, images } = currentWorkspace();
      const added = [...images.values()].filter((i) => !savedImageKeys.has(i.key));
      const removed = [...savedImageKeys].filter((k) => !images.has(k));
      try {
        await sessionDb.saveWorkspace(ws, added, removed);
        savedImageKeys = new Set(images.keys());
      } catch (e) {
        workspaceDirty = true;
        throw Object.assign(e as Error, { what: added.length ? `${added.length} new image${added.length > 1 ? 's' : ''}` : 'the classes and settings' });
      }
    }
    if (runsDirty) {
      runsDirty = false;
      const runs = useTrainStore.getState().runs;
      const ids = new Set(runs.map((r) => r.id));
      try {
        for (const id of [...savedRuns.keys()].filter((k) => !ids.has(k))) {
          await sessionDb.deleteRun(id);
          savedRuns.delete(id);
        }
        for (const r of runs) {
          if (savedRuns.get(r.id) === r) continue;
          await sessionDb.saveRun(r);
          savedRuns.set(r.id, r);
          if (r.checkpoint) set({ savedCheckpoint: { runId: r.id, epoch: r.checkpoint.epoch } });
        }
      } catch (e) {
        runsDirty = true;
        throw Object.assign(e as Error, { what: 'the run' });
      }
    }
    set({ saving: false, saveError: null, lastSavedAt: Date.now() });
  } catch (e) {
    const info = isQuotaError(e) ? await storageInfo() : undefined;
    set({ saving: false, saveError: saveErrorMessage((e as { what?: string }).what ?? 'the session', e, info) });
  }
}

const autosave = autosaveTimer(flush, AUTOSAVE_DELAY_MS, AUTOSAVE_MAX_WAIT_MS);
const scheduleSave = () => autosave.schedule();

/** Resolves once autosave has written everything changed so far (tests and Save project use it). */
export function saved(): Promise<void> {
  return autosave.flushNow();
}

/**
 * Whether the session as it is now is in a project file (saved as one, or opened from one), kept across reloads so a
 * restored session that was never exported still counts as unsaved work.
 */
const EXPORTED_KEY = 'coop-playground:session-exported';
let exported = (() => {
  try {
    return localStorage.getItem(EXPORTED_KEY) === '1';
  } catch {
    return false;
  }
})();

function markExported(value: boolean): void {
  if (exported === value) return;
  exported = value;
  try {
    localStorage.setItem(EXPORTED_KEY, value ? '1' : '0');
  } catch {
    // Storage refused (private mode): the flag lives for this page only.
  }
}

/** "3 classes, 40 images, 2 runs" when the session holds work that is not in a project file; null otherwise. */
function unexportedSummary(): string | null {
  if (exported) return null;
  const t = useTrainStore.getState();
  const images = t.cards.reduce((n, c) => n + c.images.length, 0) + t.extraSets.reduce((n, e) => n + e.items.length, 0);
  if (!images && !t.runs.length) return null;
  const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  return `${count(t.cards.length, 'class', 'classes')}, ${count(images, 'image', 'images')}, ${count(t.runs.length, 'run', 'runs')}`;
}

function writeHash(): void {
  const t = useTrainStore.getState();
  const hash = formatHash(hashSection(location.hash), t.settings, t.position);
  if (hash !== location.hash) history.replaceState(history.state, '', hash);
}

let watching = false;
function watch(): void {
  if (watching) return;
  watching = true;
  useTrainStore.subscribe((s, prev) => {
    if (s.cards !== prev.cards || s.extraSets !== prev.extraSets || s.holdOut !== prev.holdOut || s.settings !== prev.settings || s.position !== prev.position || s.activeRunId !== prev.activeRunId || s.overlay !== prev.overlay) {
      workspaceDirty = true;
      if (s.cards !== prev.cards || s.extraSets !== prev.extraSets) markExported(false);
      scheduleSave();
    }
    if (s.runs !== prev.runs) {
      runsDirty = true;
      markExported(false);
      scheduleSave();
    }
    if (s.settings !== prev.settings || s.position !== prev.position) writeHash();
  });
}

/** Cards and test sets from stored records; images that are missing are named. */
function fromRecords(ws: WorkspaceRecord, images: Map<string, StoredImage>, problems: string[]): { cards: ClassCard[]; extraSets: ExtraSet[] } {
  const cards: ClassCard[] = ws.classes.map((c) => ({
    id: newId(),
    name: c.name,
    ...(c.new === true ? { isNew: true } : {}),
    images: c.images.flatMap((i) => {
      const img = images.get(i.key);
      if (!img) {
        problems.push(`image "${i.name}" of class "${c.name}" is missing`);
        return [];
      }
      blobKeys.set(img.blob, i.key);
      const card = cardImage(img.blob, i.name, i.split);
      return [i.error ? { ...card, error: i.error } : card];
    }),
  }));
  const extraSets: ExtraSet[] = ws.extraSets.map((e) => ({
    name: e.name,
    items: e.items.flatMap((i) => {
      const img = images.get(i.key);
      if (!img) {
        problems.push(`image "${i.name}" of the ${e.name} set is missing`);
        return [];
      }
      blobKeys.set(img.blob, i.key);
      return [{ id: newId(), name: i.name, blob: img.blob, label: i.label }];
    }),
  }));
  return { cards, extraSets };
}

/** Whether the model picker offers `folder` (a bundled folder, or `stored:<key>` for one added in this browser). */
function modelAvailable(folder: string): boolean {
  const m = useModelStore.getState();
  if (folder.startsWith(STORED_PREFIX)) return m.stored.some((x) => STORED_PREFIX + x.key === folder && x.complete);
  return m.models.some((x) => x.folder === folder && !x.error);
}

/** The model a workspace names, selected once the model list is known (if it is there and not the one loading). */
async function selectModel(folder: string | null): Promise<void> {
  if (!folder) return;
  const models = useModelStore;
  if (models.getState().phase === 'listing') {
    await new Promise<void>((resolve) => {
      const off = models.subscribe((m) => m.phase !== 'listing' && (off(), resolve()));
    });
  }
  const m = models.getState();
  if (m.selected !== folder && modelAvailable(folder)) await m.select(folder);
}

function applyHashSettings(): void {
  const { settings, position } = parseHashSettings(location.hash);
  const t = useTrainStore.getState();
  if (Object.keys(settings).length) t.setSettings(settings);
  if (position) t.setPosition(position);
}

export const useSessionStore = create<SessionState>()((set, get) => ({
  restored: false,
  restoreMs: null,
  saving: false,
  saveError: null,
  lastSavedAt: null,
  savedCheckpoint: null,
  problems: [],
  storage: null,
  projectError: null,
  projectMessage: null,
  projectBusy: null,

  async restore() {
    if (get().restored) return;
    const t0 = performance.now();
    const problems: string[] = [];
    // Inside one tracked load: a Train pressed meanwhile waits for the restored cards.
    const restoring = (async () => {
      const loaded = await sessionDb.loadSession();
      problems.push(...loaded.problems);
      if (loaded.workspace) {
        const ws = loaded.workspace;
        const { cards, extraSets } = fromRecords(ws, loaded.images, problems);
        useTrainStore.getState().restore({ cards, extraSets, holdOut: ws.holdOut, settings: ws.settings, position: ws.position, runs: loaded.runs, activeRunId: ws.activeRunId, overlay: ws.overlay });
        // A link's model (?model=) wins over the saved one, as its settings do.
        if (!new URLSearchParams(location.search).has('model')) void selectModel(ws.model);
      } else if (loaded.runs.length) {
        useTrainStore.getState().restore({ cards: [], extraSets: [], holdOut: 0.25, settings: useTrainStore.getState().settings, position: 'end', runs: loaded.runs, activeRunId: null, overlay: [] });
      }
      savedImageKeys = new Set(loaded.images.keys());
      for (const r of useTrainStore.getState().runs) savedRuns.set(r.id, r);
      // Records the workspace no longer names (skipped ones, or images of a class that failed) are cleaned up later.
      if (problems.length) workspaceDirty = true;
      // A link's settings win over the saved ones.
      applyHashSettings();
    })();
    try {
      await useTrainStore.getState().track('Restoring the saved session', restoring);
    } catch (e) {
      problems.push(`the saved session could not be opened: ${(e as Error).message}`);
      applyHashSettings();
    }
    set({ restored: true, restoreMs: performance.now() - t0, problems });
    watch();
    writeHash();
    void requestPersistence().then(() => get().refreshStorage());
  },

  async refreshStorage() {
    set({ storage: await storageInfo() });
  },

  async saveProject() {
    const model = useModelStore.getState().runtime;
    if (!model) {
      set({ projectError: 'The model is still loading: save the project once it is ready.' });
      return null;
    }
    set({ projectBusy: 'Saving the project', projectError: null, projectMessage: null });
    try {
      const { ws, images } = currentWorkspace();
      const t = useTrainStore.getState();
      const bytes = await writeProject({
        workspace: ws,
        images: [...images.values()],
        runs: t.runs,
        model: { folder: model.folder, id: model.model.manifest.id, fingerprint: String(model.model.manifest.text_model_sha256 ?? '') },
      });
      const stamp = new Date().toISOString().slice(0, 16).replace(/[-:]/g, '').replace('T', '-');
      markExported(true);
      set({ projectMessage: `Saved the project: ${ws.classes.length} classes, ${images.size} images, ${t.runs.length} runs.` });
      return { bytes, name: `coop-project-${stamp}.zip` };
    } catch (e) {
      set({ projectError: `Could not save the project: ${(e as Error).message}` });
      return null;
    } finally {
      set({ projectBusy: null });
    }
  },

  async openProject(file, confirmReplace) {
    set({ projectBusy: `Opening ${file.name}`, projectError: null, projectMessage: null });
    const train = useTrainStore.getState();
    // Whatever goes wrong below, the session on the page and in the browser is the one from before.
    const kept = ' The current session is unchanged.';
    try {
      await train.track(`Opening ${file.name}`, (async () => {
        // By its size before the browser reads it into memory.
        if (file.size > LIMITS.projectTotalBytes) {
          throw new TooLargeError(file.name, bytesText(file.size), bytesText(LIMITS.projectTotalBytes), 'no project this app writes is that large');
        }
        const bytes = new Uint8Array(await file.arrayBuffer());
        const models = useModelStore.getState();
        const runtime = models.runtime;
        const result = readProject(bytes, {
          fileName: file.name,
          hasModel: (folder) => modelAvailable(folder),
          promptModel: (folder) => {
            if (!runtime || runtime.folder !== folder) return null;
            const cfg = runtime.model.config as { text_config?: { hidden_size?: number } };
            return { id: runtime.model.manifest.id, fingerprint: String(runtime.model.manifest.text_model_sha256 ?? ''), width: runtime.model.manifest.text_width ?? cfg.text_config?.hidden_size ?? 0 };
          },
        });
        if (!result.ok) throw new Error(result.error);
        const p = result.project;
        // Work not saved as a project file is never replaced without asking.
        const unsaved = unexportedSummary();
        if (unsaved && confirmReplace && !confirmReplace(`Opening ${file.name} replaces the current session (${unsaved}), which has changes not saved as a project file. Replace it?\n\nCancel keeps the current session; Save project first to keep a copy of it.`)) {
          set({ projectMessage: `Kept the current session; ${file.name} was not opened.` });
          return;
        }
        const images = new Map(p.images.map((i) => [i.key, i]));
        const problems: string[] = [];
        const { cards, extraSets } = fromRecords(p.workspace, images, problems);
        // Whatever the session still had pending is written first, so a failed replace leaves it whole.
        await saved();
        // The project replaces the session in one transaction: all of it is written, or nothing changes.
        try {
          await sessionDb.replaceSession({ ...p.workspace, model: p.model.folder }, p.images, p.runs);
        } catch (e) {
          const info = isQuotaError(e) ? await storageInfo() : undefined;
          throw new Error(`${file.name} could not be stored: ${saveErrorMessage('the project', e, info)}`);
        }
        savedImageKeys = new Set(p.images.map((i) => i.key));
        savedRuns.clear();
        useTrainStore.getState().restore({ cards, extraSets, holdOut: p.workspace.holdOut, settings: p.workspace.settings, position: p.workspace.position, runs: p.runs, activeRunId: p.workspace.activeRunId, overlay: p.workspace.overlay });
        for (const r of useTrainStore.getState().runs) savedRuns.set(r.id, r);
        // The workspace as the page builds it (its model, its keys) is saved once more; its images are already stored.
        workspaceDirty = true;
        await saved();
        markExported(true);
        await selectModel(p.model.folder);
        set({ projectMessage: `Opened ${file.name}: ${cards.length} classes, ${p.images.length} images, ${p.runs.length} runs.`, problems });
      })());
    } catch (e) {
      const msg = (e as Error).message;
      set({ projectError: /session is (kept|unchanged)\.$/.test(msg) ? msg : `${msg}${/[.!?]$/.test(msg) ? '' : '.'}${kept}` });
    } finally {
      set({ projectBusy: null });
    }
  },

  async clearAll() {
    await saved();
    await sessionDb.clearAll();
    savedImageKeys = new Set();
    savedRuns.clear();
    useTrainStore.getState().restore({ cards: [], extraSets: [], holdOut: 0.25, settings: useTrainStore.getState().settings, position: useTrainStore.getState().position, runs: [], activeRunId: null, overlay: [] });
    // The empty workspace itself is saved, so a reload stays empty.
    workspaceDirty = true;
    runsDirty = false;
    await saved();
    set({ saveError: null, problems: [], projectMessage: 'Cleared: classes, images and runs are gone.' });
    await get().refreshStorage();
  },
}));
