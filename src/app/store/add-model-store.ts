/**
 * "Add a model…": a hub repo or a folder into the browser store, with per-file and total progress, Cancel, and
 * Resume after a dropped connection (the files that arrived stay in the store; the rest continue with Range).
 * When the model is stored whole it is listed and selected.
 */
import { create } from 'zustand';
import { describeModel } from '../../models/load';
import { addModel } from '../../models/sources/add-model';
import type { StoredModelMeta, TextDtype, VisionDtype } from '../../models/sources/browser-store';
import type { FolderSource } from '../../models/sources/folder';
import { DownloadError, HubSource } from '../../models/sources/hub';
import type { TransferSnapshot } from '../../models/sources/transfer';
import { modelStore, STORED_PREFIX, useModelStore } from './model-store';

export interface HubRequest {
  repo: string;
  revision: string;
  endpoint: string;
}

type Status = 'idle' | 'checking' | 'copying' | 'failed' | 'cancelled' | 'done';

interface AddState {
  open: boolean;
  status: Status;
  /** What is being added, in words. */
  what: string | null;
  progress: TransferSnapshot | null;
  error: string | null;
  /** The last failure was a dropped connection: Resume continues it. */
  resumable: boolean;
  show(open: boolean): void;
  addFromHub(req: HubRequest, visionDtype: VisionDtype, textDtype: TextDtype): Promise<void>;
  addFromFolder(folder: FolderSource, visionDtype: VisionDtype, textDtype: TextDtype): Promise<void>;
  cancel(): void;
  resume(): Promise<void>;
  /**
   * Continues a stored model that is not whole, e.g. after the page was closed mid-download: the files that
   * arrived are kept, the rest come from the same origin (a folder must be chosen again: the page cannot reopen it).
   */
  resumeStored(meta: StoredModelMeta): Promise<void>;
}

let controller: AbortController | null = null;
let last: (() => Promise<void>) | null = null;

export const useAddModelStore = create<AddState>()((set, get) => {
  async function run(what: string, makeSource: () => HubSource | FolderSource, visionDtype: VisionDtype, textDtype: TextDtype): Promise<void> {
    if (get().status === 'checking' || get().status === 'copying') return;
    controller = new AbortController();
    const signal = controller.signal;
    last = () => run(what, makeSource, visionDtype, textDtype);
    set({ status: 'checking', what, progress: null, error: null, resumable: false });
    try {
      const from = makeSource();
      const store = await modelStore();
      const meta = await addModel(
        store,
        { from, visionDtype, textDtype },
        {
          signal,
          // The loader reads the small files where they are and refuses what is not CLIP before the towers move.
          check: async (source) => void (await describeModel(source, { signal })),
          onProgress: (progress) => set({ status: 'copying', progress }),
        },
      );
      set({ status: 'done' });
      await useModelStore.getState().refreshStored();
      await useModelStore.getState().select(STORED_PREFIX + meta.key);
      set({ open: false });
    } catch (e) {
      await useModelStore.getState().refreshStored();
      if (signal.aborted) return set({ status: 'cancelled', error: `Cancelled. What arrived is kept: Resume continues ${what} from there, or Remove it from the list.`, resumable: true });
      set({ status: 'failed', error: (e as Error).message, resumable: e instanceof DownloadError && e.resumable });
    }
  }

  return {
    open: false,
    status: 'idle',
    what: null,
    progress: null,
    error: null,
    resumable: false,
    show(open) {
      set({ open });
    },
    addFromHub(req, visionDtype, textDtype) {
      return run(req.repo.trim(), () => new HubSource(req), visionDtype, textDtype);
    },
    addFromFolder(folder, visionDtype, textDtype) {
      return run(`the folder ${folder.name}`, () => folder, visionDtype, textDtype);
    },
    cancel() {
      controller?.abort(new DOMException('Cancelled', 'AbortError'));
    },
    async resume() {
      await last?.();
    },
    async resumeStored(meta) {
      if (meta.origin.kind === 'hub') {
        const { repo, revision, endpoint } = meta.origin;
        return get().addFromHub({ repo, revision, endpoint }, meta.visionDtype, meta.textDtype);
      }
      set({
        status: 'failed',
        what: meta.name,
        progress: null,
        resumable: false,
        error: `${meta.name} was copied from a folder on disk, which the page cannot open again by itself: choose the folder ${meta.origin.name} again (Choose folder…, same dtypes) and the copy continues; the files already copied are kept.`,
      });
    },
  };
});
