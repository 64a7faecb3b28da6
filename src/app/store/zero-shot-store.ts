import { create } from 'zustand';
import { featurizeImages } from '../../encoders/image-features';
import { makeToPixels } from '../images/to-pixels';
import { recordPixels } from '../test-hooks';
import { parseClassNames } from '../zero-shot/classes';
import { classFeatures, ClassNameError } from '../zero-shot/text-features';
import { checkTemplate, DEFAULT_TEMPLATE, templatesOf, type TemplateChoice } from '../zero-shot/templates';
import { imageFeatureCache } from './feature-cache';
import type { ModelRuntime } from './model-store';

export interface ImageItem {
  id: number;
  name: string;
  blob: Blob;
  /** Object URL for the thumbnail. */
  url: string;
  /** The true class, for labelled sample images; accuracy is measured over these. */
  label?: string;
  feature?: Float32Array;
  /** Runtime key the feature belongs to; a different model needs the image encoded again. */
  featureKey?: string;
  error?: string;
}

export interface TextState {
  /** 'stale': the class list or template changed and new features are not computed yet. */
  status: 'idle' | 'stale' | 'computing' | 'ready' | 'error';
  names: string[];
  /** Unit class features [K, D], for `names` under the current template choice. */
  features: Float32Array | null;
  problems: string[];
  runtimeKey: string | null;
  /** How many templates the features average over (1 unless ensembling). */
  templateCount: number;
}

interface ZeroShotState {
  classText: string;
  template: TemplateChoice;
  images: ImageItem[];
  featureProgress: { done: number; total: number } | null;
  featureError: string | null;
  text: TextState;
  setClassText(text: string): void;
  setTemplate(choice: TemplateChoice): void;
  addImages(files: ReadonlyArray<{ blob: Blob; name: string; label?: string }>): void;
  clearImages(): void;
  encodePendingImages(runtime: ModelRuntime): Promise<void>;
  updateTextFeatures(runtime: ModelRuntime): Promise<void>;
}

// The shapes the bundled toy model learned from its captions, so zero-shot works out of the box.
const DEFAULT_CLASSES = ['circle', 'square', 'triangle', 'star', 'cross', 'ring', 'heart', 'diamond'].join('\n');

let nextId = 1;
let textGeneration = 0;
let encoding: Promise<void> | null = null;

export const useZeroShotStore = create<ZeroShotState>()((set, get) => ({
  classText: DEFAULT_CLASSES,
  template: { kind: 'single', template: DEFAULT_TEMPLATE },
  images: [],
  featureProgress: null,
  featureError: null,
  text: { status: 'idle', names: [], features: null, problems: [], runtimeKey: null, templateCount: 0 },

  // Marked stale at once, so nothing reads the old features as if they matched the new classes.
  // An unchanged value triggers no recomputation, so it must not mark them stale either.
  setClassText(classText) {
    if (classText !== get().classText) set({ classText, text: { ...get().text, status: 'stale' } });
  },
  setTemplate(template) {
    if (JSON.stringify(template) !== JSON.stringify(get().template)) set({ template, text: { ...get().text, status: 'stale' } });
  },

  addImages(files) {
    const added = files.map(({ blob, name, label }) => ({
      id: nextId++,
      name,
      blob,
      label,
      url: URL.createObjectURL(blob),
    }));
    set({ images: [...get().images, ...added] });
  },

  clearImages() {
    for (const img of get().images) URL.revokeObjectURL(img.url);
    set({ images: [], featureProgress: null, featureError: null });
  },

  async encodePendingImages(runtime) {
    // One pass at a time; a pass started while another runs picks up whatever is still pending after it.
    while (encoding) await encoding;
    const pending = get().images.filter((img) => img.featureKey !== runtime.key && !img.error);
    if (pending.length === 0) return;
    encoding = (async () => {
      set({ featureError: null });
      try {
        const results = await featurizeImages(
          pending.map((p) => p.blob),
          {
            encoder: runtime.encoders.image,
            toPixels: makeToPixels(runtime.preprocess),
            cache: imageFeatureCache,
            modelKey: runtime.key,
            onProgress: (done, total) => set({ featureProgress: { done, total } }),
            onPixels: (i, pixels) => recordPixels(pending[i].name, pixels),
          },
        );
        const byId = new Map(pending.map((p, i) => [p.id, results[i]]));
        set({
          images: get().images.map((img) => {
            const r = byId.get(img.id);
            if (!r) return img;
            return r.feature ? { ...img, feature: r.feature, featureKey: runtime.key } : { ...img, error: r.error };
          }),
        });
      } catch (e) {
        set({ featureError: `Image features could not be computed: ${(e as Error).message}` });
      }
    })();
    try {
      await encoding;
    } finally {
      encoding = null;
    }
  },

  async updateTextFeatures(runtime) {
    const mine = ++textGeneration;
    const { names, problems } = parseClassNames(get().classText);
    const templates = templatesOf(get().template);
    const templateProblems = templates.map(checkTemplate).filter((p): p is string => p !== null);
    const allProblems = [...problems, ...templateProblems];
    const settle = (fields: Pick<TextState, 'status' | 'features' | 'problems'>) =>
      set({ text: { ...fields, names, runtimeKey: runtime.key, templateCount: templates.length } });
    if (allProblems.length > 0) return settle({ status: 'error', features: null, problems: allProblems });
    set({ text: { ...get().text, status: 'computing' } });
    try {
      const features = await classFeatures(runtime.encoders.text, runtime.model.tokenizer, names, templates);
      if (mine !== textGeneration) return;
      settle({ status: 'ready', features, problems: [] });
    } catch (e) {
      if (mine !== textGeneration) return;
      const problems = e instanceof ClassNameError ? e.problems : [`Text features failed: ${(e as Error).message}`];
      settle({ status: 'error', features: null, problems });
    }
  },
}));
