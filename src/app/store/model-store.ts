import { create } from 'zustand';
import { type Backend, type Encoders } from '../../encoders';
import { chooseEncoders } from '../../encoders/choose-ep';
import type { PathChoice } from '../../engine/choose-path';
import { onGpuDeviceLost } from '../../gpu-device';
import { fetchModelIndex } from '../../models/list';
import { loadModelFolder, type ModelFolder } from '../../models/load';
import type { ModelIndexEntry } from '../../models/types';
import { loadPreprocessorConfig, type PreprocessConfig } from '../../preprocess';

/** A model ready to use: its checked files (ONNX bytes dropped) and both towers opened. */
export interface ModelRuntime {
  folder: string;
  /** Cache key for features: changes when the folder's weights do. */
  key: string;
  model: Omit<ModelFolder, 'textModel' | 'visionModel'>;
  preprocess: PreprocessConfig;
  encoders: Encoders;
}

export interface EpInfo {
  ep: Backend['ep'];
  /** Tooltip: the adapter, or why WebGPU is not used. */
  detail: string;
  /** Both EPs' probe rates and the reason for the choice (src/engine/choose-path.ts). */
  choice?: PathChoice;
}

type Phase = 'listing' | 'idle' | 'downloading' | 'compiling' | 'ready' | 'error';

interface ModelState {
  models: ModelIndexEntry[];
  selected: string | null;
  phase: Phase;
  progress: { loaded: number; total: number; file: string } | null;
  error: string | null;
  runtime: ModelRuntime | null;
  ep: EpInfo | null;
  /** Set when the GPU device was lost; learned data elsewhere in the app is kept. */
  deviceLost: string | null;
  init(): Promise<void>;
  select(folder: string): Promise<void>;
}

const PREFERRED = 'toy-clip';
let generation = 0;
let initialised = false;

function epInfo(backend: Backend, choice: PathChoice): EpInfo {
  return backend.ep === 'webgpu'
    ? { ep: 'webgpu', detail: `WebGPU on ${backend.gpu.description}. ${choice.reason}`, choice }
    : { ep: 'wasm', detail: `WASM: ${choice.reason}`, choice };
}

export const useModelStore = create<ModelState>()((set, get) => ({
  models: [],
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
      // The sessions lived on the lost device; dropping them makes the next select() start afresh.
      if (runtime?.encoders.backend.ep === 'webgpu') set({ runtime: null, phase: 'error', deviceLost: message });
    });
    try {
      const { models } = await fetchModelIndex(import.meta.env.BASE_URL);
      set({ models, phase: 'idle' });
      const usable = models.filter((m) => !m.error);
      const first = usable.find((m) => m.folder === PREFERRED) ?? usable[0];
      if (first) await get().select(first.folder);
      else set({ error: models.length ? 'No model folder in public/models/ can be used.' : 'public/models/ holds no model folders.' });
    } catch (e) {
      set({ phase: 'error', error: (e as Error).message });
    }
  },

  async select(folder) {
    const mine = ++generation;
    const entry = get().models.find((m) => m.folder === folder);
    const previous = get().runtime;
    set({ selected: folder, runtime: null, error: null, deviceLost: null, progress: null });
    if (previous) void previous.encoders.release().catch(() => {});
    if (!entry) return set({ phase: 'error', error: `No model folder "${folder}" in public/models/` });
    if (entry.error) return set({ phase: 'error', error: entry.error });
    const stale = () => mine !== generation;
    try {
      set({ phase: 'downloading' });
      const model = await loadModelFolder(entry, {
        baseUrl: import.meta.env.BASE_URL,
        onProgress: (progress) => !stale() && set({ progress }),
      });
      if (stale()) return;
      let preprocess: PreprocessConfig;
      try {
        preprocess = loadPreprocessorConfig(model.preprocessorConfig);
      } catch (e) {
        throw new Error(`public/models/${folder}/${(e as Error).message}`);
      }
      set({ phase: 'compiling' });
      // The faster EP by a short probe of each (a software WebGPU adapter loses to WASM); ?ep= forces one.
      const { encoders, choice } = await chooseEncoders(model, location.search);
      if (stale()) return void encoders.release();
      const { textModel: _t, visionModel: _v, ...rest } = model;
      // Folders without a manifest have no digest; the text file's path and size stand in for it.
      const key = `${folder}:${String(model.manifest.text_model_sha256 ?? `${model.textFile.path}:${model.textModel.byteLength}`)}`;
      set({
        phase: 'ready',
        runtime: { folder, key, model: rest, preprocess, encoders },
        ep: epInfo(encoders.backend, choice),
      });
    } catch (e) {
      if (!stale()) set({ phase: 'error', error: (e as Error).message });
    }
  },
}));
