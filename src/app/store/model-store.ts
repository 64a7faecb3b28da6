import { create } from 'zustand';
import { type BackendInfo, type Encoders } from '../../encoders';
import { openEncoders } from '../../encoders/encoders-client';
import type { PathChoice } from '../../engine/choose-path';
import { onGpuDeviceLost } from '../../gpu-device';
import { fetchModelIndex } from '../../models/list';
import { loadModel, loadModelFolder, type ModelFolder } from '../../models/load';
import { BrowserModelStore, type StoredModel, type StoredModelMeta } from '../../models/sources/browser-store';
import type { ModelIndexEntry } from '../../models/types';
import type { PreprocessConfig } from '../../preprocess';
import { imageFingerprintOf } from './image-fingerprint';

/** Where the loaded model's files are, so the training worker reads the same text file itself. */
export type RuntimeOrigin = { kind: 'bundled'; folder: string } | { kind: 'stored'; meta: StoredModelMeta };

/** A model ready to use: its checked files (ONNX bytes handed to the encoders' worker) and both towers opened there. */
export interface ModelRuntime {
  /** The picker's id: the bundled folder's name, or `stored:<key>`. */
  folder: string;
  origin: RuntimeOrigin;
  /** Cache key for features: changes when the folder's weights do. */
  key: string;
  model: Omit<ModelFolder, 'textModel' | 'visionModel'>;
  preprocess: PreprocessConfig;
  /** The image tower + preprocessing fingerprint (src/models/fingerprint.ts) that coop-adapter files name; null without WebCrypto. */
  imageFingerprint: string | null;
  encoders: Encoders;
}

export interface EpInfo {
  ep: BackendInfo['ep'];
  /** Tooltip: the adapter, or why WebGPU is not used. */
  detail: string;
  /** Both EPs' probe rates and the reason for the choice (src/engine/choose-path.ts). */
  choice?: PathChoice;
}

type Phase = 'listing' | 'idle' | 'downloading' | 'compiling' | 'ready' | 'error';

export const STORED_PREFIX = 'stored:';

interface ModelState {
  models: ModelIndexEntry[];
  /** Models added in this browser (OPFS), whole or still arriving. */
  stored: StoredModel[];
  /** Why the browser store cannot be used (no OPFS); the bundled models still work. */
  storeError: string | null;
  selected: string | null;
  phase: Phase;
  progress: { loaded: number; total: number; file: string } | null;
  error: string | null;
  runtime: ModelRuntime | null;
  ep: EpInfo | null;
  /** Set when the GPU device was lost; learned data elsewhere in the app is kept. */
  deviceLost: string | null;
  init(): Promise<void>;
  select(id: string): Promise<void>;
  refreshStored(): Promise<void>;
  /** Deletes a stored model's files; the bundled ones and other stored ones are untouched. */
  removeStored(key: string): Promise<void>;
  /** The multiplier of cos(image, text); kept with a stored model, in localStorage for a bundled one. */
  setLogitScale(value: number): Promise<void>;
}

const PREFERRED = 'toy-clip';
let generation = 0;
let initialised = false;
let storePromise: Promise<BrowserModelStore> | null = null;

export function modelStore(): Promise<BrowserModelStore> {
  storePromise ??= BrowserModelStore.open();
  return storePromise;
}

const bundledScaleKey = (folder: string) => `coop.logitScale.${folder}`;

function bundledLogitScale(folder: string): number | undefined {
  try {
    const v = Number(localStorage.getItem(bundledScaleKey(folder)));
    return Number.isFinite(v) && v > 0 ? v : undefined;
  } catch {
    return undefined;
  }
}

function epInfo(backend: BackendInfo, choice: PathChoice): EpInfo {
  return backend.ep === 'webgpu'
    ? { ep: 'webgpu', detail: `WebGPU on ${backend.gpu.description}. ${choice.reason}`, choice }
    : { ep: 'wasm', detail: `WASM: ${choice.reason}`, choice };
}

/** The model with the person's logit scale in place of the loader's default. */
function withLogitScale(model: ModelFolder, scale: number | undefined): ModelFolder {
  if (scale === undefined) return model;
  return { ...model, manifest: { ...model.manifest, logit_scale: scale }, description: { ...model.description, logitScale: scale } };
}

/**
 * A folder as published has no manifest, so no `text_model_sha256`: the app computes it from the text file it loaded
 * (docs/prompt-format.md), so learned prompts name the weights they belong to and feature caches key on them.
 */
async function withFingerprint(model: ModelFolder): Promise<ModelFolder> {
  if (model.manifest.text_model_sha256 || !globalThis.crypto?.subtle) return model;
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', model.textModel as Uint8Array<ArrayBuffer>));
  const hex = Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
  return { ...model, manifest: { ...model.manifest, text_model_sha256: hex } };
}

export const useModelStore = create<ModelState>()((set, get) => ({
  models: [],
  stored: [],
  storeError: null,
  selected: null,
  phase: 'listing',
  progress: null,
  error: null,
  runtime: null,
  ep: null,
  deviceLost: null,

  async init() {
    // StrictMode runs mount effects twice in development; the listing and first load must happen once.
    if (initialised) return;
    initialised = true;
    onGpuDeviceLost((message) => {
      const runtime = get().runtime;
      // The sessions lived on the lost device; dropping them (and their worker) makes the next select() start afresh.
      if (runtime?.encoders.backend.ep === 'webgpu') {
        set({ runtime: null, phase: 'error', deviceLost: message });
        void runtime.encoders.release().catch(() => {});
      }
    });
    try {
      const [{ models }] = await Promise.all([fetchModelIndex(import.meta.env.BASE_URL), get().refreshStored()]);
      set({ models, phase: 'idle' });
      const usable = models.filter((m) => !m.error);
      const asked = new URLSearchParams(location.search).get('model');
      const storedAsked = asked && get().stored.find((m) => m.complete && (m.key === asked || m.name === asked));
      if (storedAsked) return await get().select(STORED_PREFIX + storedAsked.key);
      const first = usable.find((m) => m.folder === (asked ?? PREFERRED)) ?? usable.find((m) => m.folder === PREFERRED) ?? usable[0];
      if (first) await get().select(first.folder);
      else set({ error: models.length ? 'No model folder in public/models/ can be used.' : 'public/models/ holds no model folders.' });
    } catch (e) {
      set({ phase: 'error', error: (e as Error).message });
    }
  },

  async refreshStored() {
    try {
      const stored = await (await modelStore()).list();
      set({ stored, storeError: null });
    } catch (e) {
      set({ storeError: (e as Error).message });
    }
  },

  async removeStored(key) {
    const store = await modelStore();
    if (get().selected === STORED_PREFIX + key) {
      const previous = get().runtime;
      generation++;
      set({ selected: null, runtime: null, phase: 'idle', progress: null, error: null });
      if (previous) void previous.encoders.release().catch(() => {});
    }
    await store.remove(key);
    await get().refreshStored();
  },

  async setLogitScale(value) {
    const runtime = get().runtime;
    if (!runtime || !(value > 0) || !Number.isFinite(value)) return;
    if (runtime.origin.kind === 'stored') {
      await (await modelStore()).setLogitScale(runtime.origin.meta.key, value);
      await get().refreshStored();
    } else {
      try {
        localStorage.setItem(bundledScaleKey(runtime.origin.folder), String(value));
      } catch {
        // Private mode: the scale holds for this visit only.
      }
    }
    const model = { ...runtime.model, manifest: { ...runtime.model.manifest, logit_scale: value }, description: { ...runtime.model.description, logitScale: value } };
    set({ runtime: { ...runtime, model } });
  },

  async select(id) {
    const mine = ++generation;
    const previous = get().runtime;
    set({ selected: id, runtime: null, error: null, deviceLost: null, progress: null });
    if (previous) void previous.encoders.release().catch(() => {});
    const stale = () => mine !== generation;
    const onProgress = (progress: ModelState['progress']) => !stale() && set({ progress });
    try {
      set({ phase: 'downloading' });
      let model: ModelFolder;
      let origin: RuntimeOrigin;
      if (id.startsWith(STORED_PREFIX)) {
        const key = id.slice(STORED_PREFIX.length);
        const store = await modelStore();
        const meta = await store.get(key);
        if (!meta) return set({ phase: 'error', error: `The stored model ${key} is gone (removed in another tab?); add it again with "Add a model…"` });
        if (!meta.complete) return set({ phase: 'error', error: `${meta.name} is not stored whole yet: open "Add a model…" and Resume its download, or Remove it.` });
        // Read from the browser store only: no network request.
        model = withLogitScale(await loadModel(store.source(meta), { text: meta.textDtype, vision: meta.visionDtype, onProgress }), meta.logitScale);
        origin = { kind: 'stored', meta };
      } else {
        const entry = get().models.find((m) => m.folder === id);
        if (!entry) return set({ phase: 'error', error: `No model folder "${id}" in public/models/` });
        if (entry.error) return set({ phase: 'error', error: entry.error });
        model = withLogitScale(await loadModelFolder(entry, { baseUrl: import.meta.env.BASE_URL, onProgress }), bundledLogitScale(id));
        origin = { kind: 'bundled', folder: id };
      }
      if (stale()) return;
      // Both digests now: opening the encoders transfers the ONNX bytes to their worker.
      const [withDigest, imageFingerprint] = await Promise.all([withFingerprint(model), imageFingerprintOf(model)]);
      model = withDigest;
      if (stale()) return;
      set({ phase: 'compiling' });
      // Folders without a manifest have no digest; the text file's path and size stand in for it (read now: opening
      // the encoders transfers the bytes to their worker).
      const digest = model.manifest.text_model_sha256 ?? `${model.textFile.path}:${model.textModel.byteLength}`;
      // In the encoders' worker: the faster EP by a short probe of each (a software WebGPU adapter loses to WASM);
      // ?ep= forces one. The page's main thread stays free meanwhile.
      // User Timing marks around the encoders' opening: bench/app-models.mjs reports the page's long tasks in between.
      performance.mark('coop:encoders-open');
      const { encoders, choice } = await openEncoders(model, location.search);
      performance.mark('coop:encoders-ready');
      if (stale()) return void encoders.release();
      const { textModel: _t, visionModel: _v, ...rest } = model;
      const key = `${id}:${String(digest)}`;
      set({
        phase: 'ready',
        runtime: { folder: id, origin, key, model: rest, preprocess: model.description.preprocess, imageFingerprint, encoders },
        ep: epInfo(encoders.backend, choice),
      });
    } catch (e) {
      if (!stale()) set({ phase: 'error', error: (e as Error).message });
    }
  },
}));
