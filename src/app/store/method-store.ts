/**
 * Which few-shot method the Train page runs (CoOp, KgCoOp, ProGrad, Tip-Adapter, Tip-Adapter-F), its settings, and
 * what each method gave on the current data, for the comparison table. Kept apart from the train store: the
 * prompt methods train through it unchanged (the method rides along in the worker's setup), the adapters run as
 * one worker request each on the same cached features.
 */
import { create } from 'zustand';
import { DEFAULT_METHOD_SETTINGS, type Method, type MethodSettings } from '../../coop/method-settings';
import type { AdapterResult } from '../../worker/protocol';
import type { ClassTokenPosition, TrainSettings } from '../../coop/settings';

export interface MethodOutcome {
  /** Final accuracy per split, in [0, 1]. */
  accuracies: Record<string, number>;
  /** Per-epoch accuracies per split, in [0, 1] (empty for Tip-Adapter, which does not train). */
  curve: Array<Record<string, number>>;
  ms: number;
  note: string;
}

interface MethodState {
  method: Method;
  settings: MethodSettings;
  /** What each method gave on the data as last set up; cleared when the data or model changes. */
  outcomes: Partial<Record<Method, MethodOutcome>>;
  /** The data those outcomes belong to (the train store's setup key). */
  outcomesKey: string | null;
  comparing: string | null;
  /**
   * The training settings a successor's recipe replaced (pick-method.ts), put back when a method without a recipe is
   * picked again; null while none is applied (or a prompt file's method was adopted with the file's own settings).
   */
  beforeRecipe: { settings: Partial<TrainSettings>; position: ClassTokenPosition } | null;
  setMethod(m: Method): void;
  setSettings(patch: Partial<MethodSettings>): void;
  record(m: Method, o: MethodOutcome, key: string): void;
  setComparing(label: string | null): void;
}

export const useMethodStore = create<MethodState>((set, get) => ({
  method: 'coop',
  settings: { ...DEFAULT_METHOD_SETTINGS },
  outcomes: {},
  outcomesKey: null,
  comparing: null,
  beforeRecipe: null,
  setMethod: (method) => set({ method }),
  setSettings: (patch) => set({ settings: { ...get().settings, ...patch } }),
  record: (m, o, key) => set({ outcomes: { ...(get().outcomesKey === key ? get().outcomes : {}), [m]: o }, outcomesKey: key }),
  setComparing: (comparing) => set({ comparing }),
}));

export function adapterOutcome(r: AdapterResult): MethodOutcome {
  return {
    accuracies: r.accuracies,
    curve: r.epochs.map((e) => e.accuracies),
    ms: r.ms,
    note: `α ${r.alpha.toFixed(2)}, β ${r.beta.toFixed(2)} (${r.searched ? 'searched on val' : 'official defaults'})`,
  };
}
