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
  openProject(file: File): Promise<void>;
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
      scheduleSave();
    }
    if (s.runs !== prev.runs) {
      runsDirty = true;
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
      set({ projectMessage: `Saved the project: ${ws.classes.length} classes, ${images.size} images, ${t.runs.length} runs.` });
      return { bytes, name: `coop-project-${stamp}.zip` };
    } catch (e) {
      set({ projectError: `Could not save the project: ${(e as Error).message}` });
      return null;
    } finally {
      set({ projectBusy: null });
    }
  },

  async openProject(file) {
    set({ projectBusy: `Opening ${file.name}`, projectError: null, projectMessage: null });
    const train = useTrainStore.getState();
    try {
      await train.track(`Opening ${file.name}`, (async () => {
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
        const images = new Map(p.images.map((i) => [i.key, i]));
        const problems: string[] = [];
        const { cards, extraSets } = fromRecords(p.workspace, images, problems);
        // The project replaces the session: what was saved before goes, in one transaction, and the project is written.
        await sessionDb.clearAll();
        savedImageKeys = new Set();
        savedRuns.clear();
        useTrainStore.getState().restore({ cards, extraSets, holdOut: p.workspace.holdOut, settings: p.workspace.settings, position: p.workspace.position, runs: p.runs, activeRunId: p.workspace.activeRunId, overlay: p.workspace.overlay });
        workspaceDirty = true;
        runsDirty = true;
        await saved();
        await selectModel(p.model.folder);
        set({ projectMessage: `Opened ${file.name}: ${cards.length} classes, ${p.images.length} images, ${p.runs.length} runs.`, problems });
      })());
    } catch (e) {
      set({ projectError: (e as Error).message });
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
