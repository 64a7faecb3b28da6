import { create } from 'zustand';
import { chooseBackend, createEncoders, requestedEp, type Backend, type Encoders } from '../../encoders';
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

function epInfo(backend: Backend): EpInfo {
  return backend.ep === 'webgpu'
    ? { ep: 'webgpu', detail: `WebGPU on ${backend.gpu.description}` }
    : { ep: 'wasm', detail: `WASM (${backend.reason})` };
}

/** WebGPU when it works for this model; a session that WebGPU cannot run falls back to WASM. */
async function openEncoders(model: ModelFolder, backend: Backend): Promise<Encoders> {
  if (backend.ep === 'wasm') return createEncoders(model, backend);
  try {
    return await createEncoders(model, backend);
  } catch (e) {
    console.warn('WebGPU EP failed, falling back to WASM:', e);
    return createEncoders(model, { ep: 'wasm', reason: `the WebGPU EP failed: ${(e as Error).message}` });
  }
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
      const backend = await chooseBackend(requestedEp(location.search));
      const encoders = await openEncoders(model, backend);
      if (stale()) return void encoders.release();
      const { textModel: _t, visionModel: _v, ...rest } = model;
      // Folders without a manifest have no digest; the text file's path and size stand in for it.
      const key = `${folder}:${String(model.manifest.text_model_sha256 ?? `${model.textFile.path}:${model.textModel.byteLength}`)}`;
      set({
        phase: 'ready',
        runtime: { folder, key, model: rest, preprocess, encoders },
        ep: epInfo(encoders.backend),
      });
    } catch (e) {
      if (!stale()) set({ phase: 'error', error: (e as Error).message });
    }
  },
}));
