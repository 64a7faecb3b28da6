/**
 * The Train page's state: class cards, settings, the worker's run, baselines and the learned prompt.
 * The worker owns the trainer; this store mirrors what it reports and keeps the last snapshot of the context, so
 * nothing learned is lost when the worker fails or the GPU device is lost.
 */
import { readableToken } from '../../tokenizer/readable-token';
import { useMethodStore } from './method-store';
import { learnsPrompt, METHOD_LABELS, type Method } from '../../coop/method-settings';
import { isSuccessor } from '../../coop/prompt-learner';
import { successorFileMethod, successorFromFile } from '../../coop/successors';
import type { PromptFileMethod } from '../../coop/prompt-file-extras';
import { classFeatures } from '../zero-shot/text-features';
import { DEFAULT_TEMPLATE } from '../zero-shot/templates';
import { promptName } from '../../coop/prompt-tokens';
import type { AdapterResult, SetupRequest } from '../../worker/protocol';
import { create } from 'zustand';
import { withDefaults, type ClassTokenPosition, type TrainSettings } from '../../coop/settings';
import { normalizeInitWords } from '../../coop/context-init';
import { parsePromptFile, type LearnedPrompt } from '../../coop/prompt-file';
import { FEATURE_METHOD_NAMES, parseAdapterFile, type AdapterFile } from '../../coop/adapter-file';
import { scoreAdapter, type AdapterScore, type ModelRef, type ScoredImage } from '../train/adapter-files';
import type { EngineKind } from '../../worker/text-engine';
import type { PathChoice } from '../../engine/choose-path';
import type { EvalSet, Snapshot, WorkerReply } from '../../worker/protocol';
import {
  addClass,
  addImages,
  classProblems,
  deleteClass,
  deleteImage,
  markImageErrors,
  newId,
  renameClass,
  setClassNew,
  cardSplit,
  splitImages,
  type CardImage,
  type ClassCard,
  type ImageSplit,
} from '../train/class-cards';
import { handBaselines, type HandBaselines } from '../train/baselines';
import { cleanFeatures, viewFeatures } from '../train/features';
import { featureSetup, fitFeatureMethod, keepFeatureSetup } from '../train/feature-adapters';
import type { FeatureFitResult, FeatureMethod } from '../../coop/adapter-methods';
import { applyEvent, EMPTY_HISTORY, type History } from '../train/history';
import { promptTokens } from '../train/prompt-tokens';
import { TrainWorkerClient } from '../train/worker-client';
import type { ModelRuntime } from './model-store';
import type { ProofPrompt } from '../../engine/load-proof';
import type { TrainerCheckpoint } from '../../coop/trainer';
import { runFromState, runName, setupFromRun, snapshotFromRun } from '../../session/runs';
import type { RunRecord, RunSetup } from '../../session/records';
import { baseKey, newKey, subsetClasses } from '../../coop/base-to-new';

export interface ExtraSetItem {
  id: number;
  name: string;
  blob: Blob;
  /** Class name; matched to the cards by name when a run is set up. */
  label: string;
}

/** A further labelled test set, e.g. the demo's shifted split. */
export interface ExtraSet {
  name: string;
  items: ExtraSetItem[];
}

export interface NearestView {
  /** [sets][M] → k tokens with distances; sets = K for class-specific context. */
  lists: Array<Array<Array<{ id: number; token: string; distance: number }>>>;
  /** Deep prompts: each text block's own tokens, [M] → k tokens, by block (1, 2, …). */
  blocks?: Array<{ block: number; lists: Array<Array<{ id: number; token: string; distance: number }>> }>;
}

export interface SetupInfo extends RunSetup {
  key: string;
  settings: TrainSettings;
  position: ClassTokenPosition;
  /** Set up to score an imported prompt only; Train prepares again (with views) from that prompt. */
  evalOnly: boolean;
}

export interface Baselines {
  hand: HandBaselines | null;
  /** Accuracy per split in [0, 1]. */
  linearProbe: Record<string, number> | null;
  probeLambda?: number;
}

/**
 * The images of the run being set up, for the picture of the prompts (PromptMap): their clean features, classes
 * (over all cards) and thumbnails. Kept only in memory: a reloaded run shows its map again after its next Train.
 */
export interface MapImages {
  dim: number;
  classNames: string[];
  /** [N, dim] normalized features, row i of image i. */
  features: Float32Array;
  labels: Int32Array;
  split: Array<'train' | 'test'>;
  urls: string[];
  names: string[];
  /** Class (index into classNames) of each row of the learned and zero-shot text features (base-to-new: the base classes). */
  textClasses: number[];
  /** The setup this belongs to (its key), so a map never mixes two runs' data. */
  key: string;
}

export interface RestoredSession {
  cards: ClassCard[];
  extraSets: ExtraSet[];
  holdOut: number;
  settings: TrainSettings;
  position: ClassTokenPosition;
  runs: RunRecord[];
  activeRunId: string | null;
  overlay: string[];
}

interface TrainState {
  cards: ClassCard[];
  extraSets: ExtraSet[];
  /** Fraction of each class held out for testing when it has no explicit test images. */
  holdOut: number;
  settings: TrainSettings;
  position: ClassTokenPosition;
  problems: string[];
  /** File errors and other problems of the last preparation. */
  fileErrors: string[];
  preparing: { label: string; done: number; total: number } | null;
  /** The training worker's engine; `threads` (the CPU engine's) once the worker's 'ready' reply carries it. */
  engine: { kind: EngineKind; detail: string; choice?: PathChoice; threads?: number } | null;
  history: History;
  /** Fatal for the run but not for what was learned (device lost, worker crash). */
  runError: string | null;
  setup: SetupInfo | null;
  baselines: Baselines;
  snapshot: Snapshot | null;
  mapImages: MapImages | null;
  nearest: NearestView | null;
  imported: LearnedPrompt | null;
  importError: string | null;
  /** The last fit of each feature-only method on the current setup, with what its exported file needs. */
  featureFits: Partial<Record<FeatureMethod, FeatureFit>>;
  /** An imported coop-adapter file and its predictions on the page's images. */
  importedAdapter: ImportedAdapter | null;
  /** Every Train makes a run (src/session/runs.ts); the active one is what the page shows and predicts with. */
  runs: RunRecord[];
  activeRunId: string | null;
  /** Runs whose curves are drawn over the active run's. */
  overlay: string[];
  /** What is still loading (the demo, dropped files, a project): Train waits for it. */
  loading: string[];
  /** Set while Train waits for `loading` to finish. */
  waitingToTrain: boolean;

  /** Runs `work` as a named load: Train pressed meanwhile waits for it, then trains on what it loaded. */
  track<T>(label: string, work: Promise<T>): Promise<T>;
  renameRun(id: string, name: string): void;
  deleteRun(id: string): void;
  /** Shows a run's curves and results and predicts with its prompt. */
  showRun(id: string): void;
  toggleOverlay(id: string): void;
  /** Whether Train continues the shown run (after a stop, a failure or a reload) rather than starting a new one. */
  canResume(runtime: ModelRuntime | null): boolean;
  /** Replaces the whole page state with a restored session or an opened project (src/app/store/session-store.ts). */
  restore(data: RestoredSession): void;

  addClass(name?: string): void;
  renameClass(id: number, name: string): void;
  /** Base-to-new: a "new" class is left out of training (src/coop/base-to-new.ts). */
  setClassNew(id: number, isNew: boolean): void;
  deleteClass(id: number): void;
  addFiles(classId: number, files: ReadonlyArray<{ blob: Blob; name: string }>, split?: ImageSplit): void;
  deleteImage(imageId: number): void;
  setHoldOut(fraction: number): void;
  setSettings(patch: Partial<TrainSettings>): void;
  setPosition(p: ClassTokenPosition): void;
  loadCards(cards: ClassCard[], extraSets: ExtraSet[]): void;
  train(runtime: ModelRuntime): Promise<void>;
  stop(): void;
  reset(): void;
  importPrompt(text: string, runtime: ModelRuntime): Promise<void>;
  /** A coop-adapter file (CLAP, LP++, TaskRes, CLIP-Adapter): checked against the loaded model, then scored on the page's images. */
  importAdapter(text: string, runtime: ModelRuntime): Promise<void>;
  requestNearest(): void;
}

export interface FeatureFit {
  result: FeatureFitResult;
  /** The classes its weights are for (base-to-new: the base classes). */
  classNames: string[];
  /** The model whose image features it was fitted on; null without WebCrypto (no fingerprint: it cannot be exported). */
  model: ModelRef | null;
  /** Width of those features. */
  dim: number;
  shots: number;
  seed: number;
}

export interface ImportedAdapter {
  file: AdapterFile;
  /** Per split, on the page's images whose class the file knows. */
  score: AdapterScore;
  /** The runtime it was checked against (ModelRuntime.key): Predict uses it only while that model is loaded. */
  modelKey: string;
  /** The images scored, in order (their card's name and split), for score.predictions. */
  images: Array<ScoredImage & { name: string }>;
}

/**
 * After a failed run (NaN loss, lost device) the person typically lowers the lr and trains again: the new run
 * then starts from the context kept from the failed one, when its shape still fits the new settings.
 */
function carriedContext(s: Pick<TrainState, 'history' | 'snapshot' | 'settings' | 'cards'>, runtime: ModelRuntime): LearnedPrompt['context'] | null {
  const ctx = s.snapshot?.context;
  if (s.history.status !== 'failed' || !ctx) return null;
  const words = s.settings.init === 'words' ? runtime.model.tokenizer.encode(normalizeInitWords(s.settings.initWords)).length : s.settings.nCtx;
  const sets = s.settings.csc ? s.cards.length : 0;
  return ctx.nCtx === words && ctx.cscClasses === sets ? ctx : null;
}

/**
 * The context Train starts from: an imported prompt's (with its extras only while its own method is picked: another
 * method would ignore them, and they would export under its name), else the one kept from a failed run.
 */
function startContext(s: Pick<TrainState, 'history' | 'snapshot' | 'settings' | 'cards' | 'imported' | 'runs' | 'activeRunId'>, runtime: ModelRuntime): LearnedPrompt['context'] | null {
  const picked = useMethodStore.getState().method;
  const own = (ctx: LearnedPrompt['context'], madeBy: string | undefined) => (ctx.extras?.length && madeBy !== picked ? { ...ctx, extras: undefined } : ctx);
  if (s.imported) return own(s.imported.context, s.imported.method?.name);
  const carried = carriedContext(s, runtime);
  return carried && own(carried, s.runs.find((r) => r.id === s.activeRunId)?.method?.name);
}

let client: TrainWorkerClient | null = null;
let clientKey = '';
let engineReady: Promise<unknown> | null = null;

export const thumbnail = (blob: Blob) => (typeof URL.createObjectURL === 'function' ? URL.createObjectURL(blob) : '');

export function cardImage(blob: Blob, name: string, split: ImageSplit): CardImage {
  return { id: newId(), name, blob, url: thumbnail(blob), split };
}

/** What a run depends on: the same key means the worker's trainer can simply resume. */
export function setupKey(s: Pick<TrainState, 'cards' | 'extraSets' | 'holdOut' | 'settings' | 'position'>, modelKey: string): string {
  const cards = s.cards.map((c) => `${c.isNew ? '*' : ''}${c.name}:${c.images.map((i) => `${i.id}${i.split[0]}`).join(',')}`).join('|');
  const extras = s.extraSets.map((e) => `${e.name}:${e.items.length}`).join('|');
  return JSON.stringify([modelKey, cards, extras, s.holdOut, s.settings, s.position, promptMethodKey()]);
}

/** The picked prompt method (method-store.ts) and its settings: a change sets the run up anew. */
function promptMethodKey(): unknown {
  const { method, settings } = useMethodStore.getState();
  return learnsPrompt(method) && method !== 'coop' ? [method, settings] : 'coop';
}

/**
 * KgCoOp, ProGrad and the successors ride along in the setup with the hand-written prompts' features ("a photo of
 * a {}.", or an imported file's template): KgCoOp's anchors, ProGrad's teacher, TCP's class-token input (base-to-new:
 * `handWrittenNew`, the new classes'), DePT (KgCoOp)'s anchors.
 */
function methodForSetup(handWritten: Float32Array, handWrittenNew: Float32Array | null): Pick<SetupRequest, 'method'> {
  const { method, settings } = useMethodStore.getState();
  if (!learnsPrompt(method) || method === 'coop') return {};
  return { method: { name: method, settings, handWritten: handWritten.slice(), ...(handWrittenNew ? { handWrittenNew } : {}) } };
}

/** The text blocks of the model's text tower (TCP's block is chosen from them). */
function textLayers(runtime: ModelRuntime): number {
  const cfg = runtime.model.config as { text_config?: { num_hidden_layers?: number } };
  return cfg.text_config?.num_hidden_layers ?? 12;
}

/**
 * The prompt-file method record of a run of the picked successor on these classes (what Export and a project save
 * write beside its extras), or null for CoOp, KgCoOp and ProGrad.
 */
export function runMethodRecord(method: Method, settings: ReturnType<typeof useMethodStore.getState>['settings'], layers: number, baseClasses: readonly string[], template = DEFAULT_TEMPLATE): PromptFileMethod | null {
  if (!isSuccessor(method)) return null;
  return successorFileMethod(method, settings, { L: layers, template, baseClasses: [...baseClasses] });
}

/** The hand-written template of an imported successor's file (TCP, DePT (KgCoOp)), else CLIP's "a photo of a {}.". */
function templateOf(m: PromptFileMethod | undefined): string {
  return m ? (successorFromFile(m).template ?? DEFAULT_TEMPLATE) : DEFAULT_TEMPLATE;
}

/**
 * DePT scores a file's classes through its linear head only where they are the head's classes (`base_classes`, in
 * order); the file's other classes are new classes (CLIP logits with the learned context). Returns which of `names`
 * are new, or a problem when the base classes are not all there in the head's order.
 */
export function deptSplitOf(names: readonly string[], baseClasses: readonly string[]): { isNew: boolean[] } | { problem: string } {
  const base = names.filter((n) => baseClasses.includes(n));
  if (base.length !== baseClasses.length || base.some((n, i) => n !== baseClasses[i])) {
    return { problem: `its linear head scores ${baseClasses.length} base classes (${baseClasses.join(', ')}), which must all be among the file's classes in that order` };
  }
  return { isNew: names.map((n) => !baseClasses.includes(n)) };
}

/** Tip-Adapter(-F) in the worker, on the current setup's cached views and splits (src/coop/tip-adapter.ts). */
export async function fitAdapter(method: 'tip' | 'tip-f'): Promise<AdapterResult> {
  const s = useTrainStore.getState();
  const zs = s.baselines.hand?.zeroShot.text;
  if (!client || !s.setup || s.setup.evalOnly || !zs) throw new Error('Press Train once first: it encodes the images and views the adapters fit on.');
  const r = await client.request({ type: 'adapter', method, zeroShotText: zs.slice() }, 'adapter');
  // Base-to-new: the cache has no entries for new classes, so there the adapter is zero-shot CLIP among the new
  // classes (its text-only part): the zero-shot baseline's new-class numbers, scored as the command line does.
  const zsAcc = s.baselines.hand!.zeroShot.accuracy;
  const fallback = Object.fromEntries(Object.entries(zsAcc).filter(([k]) => k.endsWith('/new')));
  return { ...r.result, accuracies: { ...r.result.accuracies, ...fallback } };
}

/** CLAP, LP++, TaskRes or CLIP-Adapter on the current setup's cached features, in a worker of their own. */
export async function fitFeature(method: FeatureMethod, runtime: ModelRuntime | null): Promise<FeatureFitResult> {
  const s = useTrainStore.getState();
  const zs = s.baselines.hand?.zeroShot.text;
  const fs = featureSetup();
  if (!s.setup || s.setup.evalOnly || !zs || !fs || fs.key !== s.setup.key) throw new Error('Press Train once first: it encodes the images and views the adapters fit on.');
  // The cached features belong to the model the setup was made with (the key's first part); its file names that model.
  if (!runtime || modelKeyOf(fs.key) !== runtime.key) throw new Error('The model changed since Train encoded the images: press Train again first.');
  const r = await fitFeatureMethod(method, fs, zs, s.setup.settings.seed);
  const classNames = fs.baseClasses ? fs.baseClasses.map((c) => s.setup!.classNames[c]) : s.setup.classNames;
  const model = runtime.imageFingerprint ? { id: runtime.model.manifest.id, imageFingerprint: runtime.imageFingerprint } : null;
  const fit: FeatureFit = { result: r, classNames: [...classNames], model, dim: fs.dim, shots: Math.floor(fs.train.labels.length / Math.max(1, fs.nClasses)), seed: s.setup.settings.seed };
  useTrainStore.setState({ featureFits: { ...useTrainStore.getState().featureFits, [method]: fit } });
  // Base-to-new: as Tip-Adapter, zero-shot CLIP among the new classes (the zero-shot baseline's new-class numbers).
  const fallback = Object.fromEntries(Object.entries(s.baselines.hand!.zeroShot.accuracy).filter(([k]) => k.endsWith('/new')));
  return { ...r, accuracies: { ...r.accuracies, ...fallback } };
}

function modelKeyOf(setupKey: string): unknown {
  try {
    return (JSON.parse(setupKey) as unknown[])[0];
  } catch {
    return null;
  }
}

function textWidth(runtime: ModelRuntime): number {
  const cfg = runtime.model.config as { text_config?: { hidden_size?: number } };
  return runtime.model.manifest.text_width ?? cfg.text_config?.hidden_size ?? 0;
}

/** What the data of a run is, by content (not by the ids of this page's cards): Resume after a reload needs the same. */
export function dataKey(s: Pick<TrainState, 'cards' | 'extraSets' | 'holdOut' | 'settings' | 'position'>, folder: string): string {
  // A base-to-new mark changes what trains; unmarked cards keep the key they had before marks existed.
  const cards = s.cards.map((c) => [c.name, c.images.map((i) => `${i.name}:${i.split}:${i.blob.size}`), ...(c.isNew ? ['new'] : [])]);
  const extras = s.extraSets.map((e) => [e.name, e.items.map((i) => `${i.name}:${i.label}:${i.blob.size}`)]);
  return JSON.stringify([folder, cards, extras, s.holdOut, s.settings, s.position]);
}

function modelOf(runtime: ModelRuntime): RunRecord['model'] {
  return { folder: runtime.folder, id: runtime.model.manifest.id, fingerprint: String(runtime.model.manifest.text_model_sha256 ?? '') };
}

/** The checkpoint Train continues from after a reload: the shown run's, if its data, settings and model are the page's. */
function reloadCheckpoint(s: TrainState, runtime: ModelRuntime | null): TrainerCheckpoint | null {
  if (!runtime || s.setup?.key) return null;
  const run = s.runs.find((r) => r.id === s.activeRunId);
  if (!run?.checkpoint || run.imported || run.status === 'done') return null;
  if (run.model.folder !== runtime.folder || run.dataKey !== dataKey(s, runtime.folder)) return null;
  return run.checkpoint;
}

/** The page's state for a stored run: its curves, setup, last snapshot and baselines. */
function viewOf(run: RunRecord): Pick<TrainState, 'history' | 'setup' | 'snapshot' | 'baselines'> {
  const interrupted = run.status === 'running' || run.status === 'preparing' || run.status === 'stopping' || run.status === 'ready';
  const status = interrupted ? (run.loss.length ? 'stopped' : 'idle') : run.status;
  return {
    history: { status, loss: run.loss, epochs: run.epochs, progress: run.progress, error: run.error },
    setup: setupFromRun(run),
    snapshot: snapshotFromRun(run),
    baselines: run.view?.baselines ?? { hand: null, linearProbe: null },
  };
}

/**
 * A shown or restored successor run picks its method (with the run's own settings from its record), so Predict,
 * Resume and Train go through the method that learned its extras. Runs without a record leave the picker alone.
 */
function adoptRunMethod(run: RunRecord | undefined): void {
  if (!run?.method) return;
  const own = successorFromFile(run.method);
  useMethodStore.setState({ method: own.method, settings: { ...useMethodStore.getState().settings, ...own.settings }, beforeRecipe: null });
}

/** Resolvers of Train calls waiting for loads to finish. */
const idleWaiters: Array<() => void> = [];

export const useTrainStore = create<TrainState>()((set, get) => {
  /** Folds the page's current run state into the active run's record (which the session autosaves). */
  const syncRun = () => {
    const s = get();
    const i = s.runs.findIndex((r) => r.id === s.activeRunId);
    if (i < 0) return;
    const next = runFromState({ id: s.runs[i].id, name: s.runs[i].name, state: s, base: s.runs[i] });
    const runs = [...s.runs];
    runs[i] = next;
    set({ runs });
  };

  const onReply = (r: WorkerReply) => {
    switch (r.type) {
      case 'ready':
        set({ engine: { kind: r.engine, detail: r.detail, choice: r.choice, threads: r.threads } });
        return;
      case 'event': {
        const history = applyEvent(get().history, r.event);
        set({ history });
        syncRun();
        return;
      }
      case 'snapshot':
        // A context-only snapshot (the engine could not score) keeps the previous predictions on screen.
        if (r.snapshot.textFeatures.length === 0 && get().snapshot) {
          set({ snapshot: { ...get().snapshot!, context: r.snapshot.context, epoch: r.snapshot.epoch, step: r.snapshot.step, checkpoint: r.snapshot.checkpoint, gpuMemory: r.snapshot.gpuMemory } });
        } else set({ snapshot: r.snapshot });
        syncRun();
        if (get().history.status === 'done' || get().history.status === 'stopped') get().requestNearest();
        return;
      case 'nearest': {
        const tok = (id: number) => {
          try {
            // Byte-level tokens readably: printable text, <0xE2>-style bytes, </w> at a word end.
            return currentTokenizer ? readableToken(currentTokenizer.tokenString(id)) : `#${id}`;
          } catch {
            return `#${id}`;
          }
        };
        const lists = Array.from({ length: r.sets }, (_, s) =>
          Array.from({ length: r.nCtx }, (_, m) =>
            Array.from({ length: r.k }, (_, j) => {
              const i = (s * r.nCtx + m) * r.k + j;
              return { id: r.ids[i], token: tok(r.ids[i]), distance: r.distances[i] };
            }),
          ),
        );
        const blocks = r.blocks?.map((b) => ({
          block: b.block,
          lists: Array.from({ length: b.nCtx }, (_, m) => Array.from({ length: r.k }, (_, j) => ({ id: b.ids[m * r.k + j], token: tok(b.ids[m * r.k + j]), distance: b.distances[m * r.k + j] }))),
        }));
        set({ nearest: { lists, ...(blocks?.length ? { blocks } : {}) } });
        return;
      }
      case 'error':
        if (r.deviceLost || r.during === 'worker') {
          set({ runError: r.message, history: { ...get().history, status: get().snapshot ? 'stopped' : 'failed', error: r.message } });
        } else if (r.during === 'train') {
          set({ runError: r.message, history: { ...get().history, status: 'failed', error: r.message } });
        }
        syncRun();
        return;
      default:
        return;
    }
  };

  let currentTokenizer: ModelRuntime['model']['tokenizer'] | null = null;

  async function ensureWorker(runtime: ModelRuntime): Promise<TrainWorkerClient> {
    currentTokenizer = runtime.model.tokenizer;
    // The logit scale is the engine's: an edited scale starts a worker with it.
    const key = `${runtime.key}|${runtime.model.manifest.logit_scale}`;
    if (client && clientKey === key) {
      await engineReady;
      return client;
    }
    client?.terminate();
    client = new TrainWorkerClient(onReply);
    clientKey = key;
    // ?engine=cpu / ?engine=webgpu force a text engine; otherwise the worker probes both and keeps the faster.
    const query = new URLSearchParams(location.search);
    const engineParam = query.get('engine');
    const preferGpu = engineParam !== 'cpu';
    // ?threads=N sets the CPU twin's threads (1: no matmul workers), for comparing; otherwise the worker decides.
    const threads = Number(query.get('threads')) || undefined;
    // The dtype's file the loader chose (a folder may hold only onnx/text_model_fp16.onnx); the worker upcasts fp16.
    // A stored model's text file is read by the worker from the browser store itself: no second download.
    const textPath = runtime.model.textFile.path;
    const textModelUrl =
      runtime.origin.kind === 'bundled' ? new URL(`${import.meta.env.BASE_URL}models/${encodeURIComponent(runtime.origin.folder)}/${textPath}`, location.href).href : '';
    const textStored = runtime.origin.kind === 'stored' ? { meta: runtime.origin.meta, path: textPath } : undefined;
    const proof = await proofPrompts(runtime);
    engineReady = client.request(
      { type: 'init', textModelUrl, textStored, config: runtime.model.config, logitScale: runtime.model.manifest.logit_scale, preferGpu, engine: engineParam ?? 'auto', proof, threads },
      'ready',
    );
    try {
      await engineReady;
    } catch (e) {
      client.terminate();
      client = null;
      throw e;
    }
    return client;
  }

  /** Features, baselines and the worker's setup; `context` starts from an imported prompt instead of a fresh init. */
  async function prepare(
    runtime: ModelRuntime,
    context: LearnedPrompt['context'] | null,
    evalOnly = false,
    resume: TrainerCheckpoint | null = null,
    keptHistory: History | null = null,
  ): Promise<void> {
    const state = get();
    const settings = state.settings;
    const tokenizer = runtime.model.tokenizer;
    const contextLength = runtime.model.manifest.context_length ?? 77;
    const initIds = settings.init === 'words' ? tokenizer.encode(normalizeInitWords(settings.initWords)) : null;
    const nCtx = context?.nCtx ?? resume?.context.nCtx ?? initIds?.length ?? settings.nCtx;
    const problems = classProblems(state.cards, { tokenizer, nCtx, contextLength, needImages: !evalOnly, csc: settings.csc });
    if (settings.init === 'words' && !context && initIds?.length === 0) problems.push('The init words give no tokens.');
    const picked = useMethodStore.getState().method;
    if (isSuccessor(picked) && settings.csc) problems.push(`${METHOD_LABELS[picked]} learns one context shared by every class: turn class-specific context (CSC) off in the settings to train it.`);
    if (problems.length) {
      set({ problems });
      throw new Error(problems[0]);
    }
    set({ problems: [], fileErrors: [], runError: null, history: { ...(keptHistory ?? EMPTY_HISTORY), status: 'preparing' }, nearest: null });
    const worker = await ensureWorker(runtime);
    const names = state.cards.map((c) => c.name.trim());
    const byName = new Map(names.map((n, i) => [n, i]));

    // Clean features of every image first: they also find the files that cannot be decoded.
    const progress = (label: string) => (done: number, total: number) => set({ preparing: { label, done, total } });
    const all = state.cards.flatMap((c) => c.images.filter((i) => !i.error));
    const clean = await cleanFeatures(all, runtime, progress('Encoding images'));
    const errors = new Map<number, string>();
    clean.errors.forEach((msg, i) => errors.set(all[i].id, msg));
    const cards = markImageErrors(get().cards, errors);
    set({ cards });
    const dim = runtime.model.manifest.embed_dim;
    const featureOf = new Map(all.map((img, i) => [img.id, clean.features.subarray(i * dim, (i + 1) * dim)]));
    const split = cardSplit(cards);
    // An imported DePT file scores its non-base classes as new classes (importPrompt marks them), even evaluation-only.
    const deptImport = evalOnly && !!state.imported?.method?.name.startsWith('dept');
    const b2n = split.new.length > 0 && (!evalOnly || deptImport);
    const parts = splitImages(cards, state.holdOut);
    // Base-to-new: only base classes train, labelled by their position among the base classes.
    const basePos = new Map(split.base.map((c, i) => [c, i]));
    const train = b2n ? parts.train.filter((t) => basePos.has(t.label)).map((t) => ({ ...t, label: basePos.get(t.label)! })) : parts.train;
    const test = parts.test;
    const gather = (list: typeof train) => {
      const f = new Float32Array(list.length * dim);
      list.forEach((l, i) => f.set(featureOf.get(l.image.id)!, i * dim));
      return { features: f, labels: Int32Array.from(list, (l) => l.label) };
    };
    const trainSet = gather(train);
    const evalSets: EvalSet[] = [];
    if (test.length) evalSets.push({ name: 'test', ...gather(test) });
    const fileErrors = [...errors.values()];
    for (const extra of state.extraSets) {
      const items = extra.items.filter((it) => byName.has(it.label));
      const out = await cleanFeatures(items, runtime, progress(`Encoding the ${extra.name} set`));
      const keep = items.map((_, i) => i).filter((i) => !out.errors.has(i));
      out.errors.forEach((m) => fileErrors.push(m));
      const features = new Float32Array(keep.length * dim);
      keep.forEach((i, r) => features.set(out.features.subarray(i * dim, (i + 1) * dim), r * dim));
      evalSets.push({ name: extra.name, features, labels: Int32Array.from(keep, (i) => byName.get(items[i].label)!) });
    }
    if (!evalOnly && cards.some((c) => !c.isNew && !c.images.some((i) => !i.error && i.split === 'train'))) {
      const empty = cards.filter((c) => !c.isNew && !c.images.some((i) => !i.error && i.split === 'train')).map((c) => `"${c.name}"`);
      set({ fileErrors, problems: [`No usable training images left in ${empty.join(', ')}.`], preparing: null, history: EMPTY_HISTORY });
      throw new Error('no usable training images');
    }

    const nViews = Math.max(1, Math.floor(settings.views));
    const views = evalOnly
      ? { features: new Float32Array(train.length * nViews * dim), errors: new Map<number, string>() }
      : await viewFeatures(train.map((t) => t.image), nViews, settings.seed, runtime, progress('Encoding augmented views'));
    views.errors.forEach((m) => fileErrors.push(m));
    set({ fileErrors, preparing: { label: 'Measuring the baselines', done: 0, total: 1 } });

    const labelled = [{ name: 'train', ...trainSet }, ...evalSets];
    const trainNames = b2n ? split.base.map((c) => names[c]) : names;
    // Base-to-new: the probe (no weights for new classes) is scored on each split's base-class images.
    const probeSets = b2n ? evalSets.map((e) => ({ ...subsetClasses(e, split.base, dim), name: baseKey(e.name) })) : evalSets;
    const [hand] = await Promise.all([
      handBaselines(runtime, names, labelled, b2n ? split : null),
      trainSet.labels.length
        ? worker.request({ type: 'linear-probe', ...trainSet, nClasses: trainNames.length, evalSets: probeSets }, 'linear-probe').then((r) =>
            set({ baselines: { ...get().baselines, linearProbe: r.accuracies, probeLambda: r.lambda } }),
          )
        : Promise.resolve(set({ baselines: { ...get().baselines, linearProbe: null } })),
    ]);
    set({ baselines: { ...get().baselines, hand } });
    // The successors' hand-written features: an imported file's own template, or the baseline's "a photo of a {}.".
    const template = context && state.imported?.context === context ? templateOf(state.imported.method) : DEFAULT_TEMPLATE;
    const handText = async (classes: string[]) => classFeatures(runtime.encoders.text, tokenizer, classes.map(promptName), [template]);
    const handWritten = template === DEFAULT_TEMPLATE ? hand.zeroShot.text : await handText(trainNames);
    const handWrittenNew = b2n && useMethodStore.getState().method === 'tcp' ? await handText(split.new.map((c) => names[c])) : null;

    const prompts = promptTokens(tokenizer, trainNames, nCtx, contextLength);
    const done = await worker.request(
      {
        type: 'setup',
        settings,
        position: state.position,
        prompts,
        initWordIds: initIds,
        context,
        viewFeatures: views.features,
        nViews,
        labels: trainSet.labels,
        nClasses: trainNames.length,
        trainFeatures: trainSet.features,
        evalSets,
        evalOnly: !!context && evalOnly,
        resume,
        ...(b2n ? { baseToNew: { split, newPrompts: promptTokens(tokenizer, split.new.map((c) => names[c]), nCtx, contextLength) } } : {}),
        ...methodForSetup(handWritten, handWrittenNew),
      },
      'setup-done',
    );
    const labels: Record<string, Int32Array> = { train: trainSet.labels };
    for (const s of evalSets) {
      if (!b2n) labels[s.name] = s.labels;
      else {
        // Per part, labelled by position among that part's classes (the worker predicts the same way).
        labels[baseKey(s.name)] = subsetClasses(s, split.base, dim).labels;
        labels[newKey(s.name)] = subsetClasses(s, split.new, dim).labels;
      }
    }
    const key = setupKey(get(), runtime.key);
    const mapRows = [...parts.train.map((t) => ({ ...t, split: 'train' as const })), ...parts.test.map((t) => ({ ...t, split: 'test' as const }))].filter((t) => featureOf.has(t.image.id) && !errors.has(t.image.id));
    const mapFeatures = new Float32Array(mapRows.length * dim);
    mapRows.forEach((t, i) => mapFeatures.set(featureOf.get(t.image.id)!, i * dim));
    set({
      mapImages: {
        dim,
        classNames: names,
        features: mapFeatures,
        labels: Int32Array.from(mapRows, (t) => t.label),
        split: mapRows.map((t) => t.split),
        urls: mapRows.map((t) => t.image.url),
        names: mapRows.map((t) => t.image.name),
        textClasses: b2n ? [...split.base] : names.map((_, i) => i),
        key,
      },
    });
    // CLAP, LP++, TaskRes and CLIP-Adapter fit on these same features on the page's side (feature-adapters.ts).
    if (!evalOnly) keepFeatureSetup({ key: setupKey(get(), runtime.key), viewFeatures: views.features, nViews, dim, train: trainSet, nClasses: trainNames.length, evalSets, baseClasses: b2n ? split.base : null });
    set({
      preparing: null,
      history: { ...(keptHistory ?? EMPTY_HISTORY), status: 'ready' },
      setup: {
        key,
        classNames: trainNames,
        ...(b2n ? { newClassNames: split.new.map((c) => names[c]) } : {}),
        nCtx: done.nCtx,
        csc: done.csc,
        maxEpochs: done.maxEpochs,
        stepsPerEpoch: done.stepsPerEpoch,
        note: done.note,
        labels,
        settings,
        position: state.position,
        nTrain: trainSet.labels.length,
        evalOnly: !!context && evalOnly,
      },
    });
  }

  return {
    cards: [],
    extraSets: [],
    holdOut: 0.25,
    settings: withDefaults(),
    position: 'end',
    problems: [],
    fileErrors: [],
    preparing: null,
    engine: null,
    history: EMPTY_HISTORY,
    runError: null,
    setup: null,
    baselines: { hand: null, linearProbe: null },
    snapshot: null,
    mapImages: null,
    nearest: null,
    imported: null,
    importError: null,
    featureFits: {},
    importedAdapter: null,
    runs: [],
    activeRunId: null,
    overlay: [],
    loading: [],
    waitingToTrain: false,

    async track(label, work) {
      set({ loading: [...get().loading, label] });
      const done = () => {
        const loading = [...get().loading];
        loading.splice(loading.indexOf(label), 1);
        set({ loading });
        if (loading.length === 0) for (const r of idleWaiters.splice(0)) r();
      };
      try {
        return await work;
      } finally {
        done();
      }
    },
    renameRun(id, name) {
      set({ runs: get().runs.map((r) => (r.id === id ? { ...r, name } : r)) });
    },
    deleteRun(id) {
      const s = get();
      if (s.activeRunId === id && ['preparing', 'running', 'stopping'].includes(s.history.status)) return;
      const runs = s.runs.filter((r) => r.id !== id);
      const patch: Partial<TrainState> = { runs, overlay: s.overlay.filter((o) => o !== id) };
      if (s.activeRunId === id) Object.assign(patch, { activeRunId: null, setup: null, snapshot: null, history: EMPTY_HISTORY, nearest: null });
      set(patch);
    },
    showRun(id) {
      const s = get();
      if (['preparing', 'running', 'stopping'].includes(s.history.status)) return;
      const run = s.runs.find((r) => r.id === id);
      if (!run) return;
      adoptRunMethod(run);
      set({ ...viewOf(run), activeRunId: id, overlay: s.overlay.filter((o) => o !== id), nearest: null, imported: null, importError: null, runError: null });
    },
    toggleOverlay(id) {
      const o = get().overlay;
      set({ overlay: o.includes(id) ? o.filter((x) => x !== id) : [...o, id] });
    },
    restore(data) {
      for (const c of get().cards) c.images.forEach((i) => i.url && URL.revokeObjectURL(i.url));
      client?.post({ type: 'reset' });
      const active = data.runs.find((r) => r.id === data.activeRunId);
      adoptRunMethod(active);
      set({
        cards: data.cards,
        extraSets: data.extraSets,
        holdOut: data.holdOut,
        settings: withDefaults(data.settings),
        position: data.position,
        runs: data.runs,
        activeRunId: active ? active.id : null,
        overlay: data.overlay.filter((id) => data.runs.some((r) => r.id === id)),
        problems: [],
        fileErrors: [],
        runError: null,
        imported: null,
        importError: null,
        importedAdapter: null,
        featureFits: {},
        nearest: null,
        mapImages: null,
        ...(active ? viewOf(active) : { history: EMPTY_HISTORY, setup: null, snapshot: null, baselines: { hand: null, linearProbe: null } }),
      });
    },
    canResume(runtime) {
      const s = get();
      if (s.history.status !== 'stopped' && s.history.status !== 'failed') return false;
      if (s.setup && !s.setup.evalOnly && s.history.loss.length > 0 && client && s.setup.key && runtime && s.setup.key === setupKey(s, runtime.key)) return true;
      return !!reloadCheckpoint(s, runtime);
    },

    addClass: (name) => set({ cards: addClass(get().cards, name ?? `class ${get().cards.length + 1}`) }),
    renameClass: (id, name) => set({ cards: renameClass(get().cards, id, name) }),
    setClassNew: (id, isNew) => set({ cards: setClassNew(get().cards, id, isNew) }),
    deleteClass(id) {
      const card = get().cards.find((c) => c.id === id);
      card?.images.forEach((i) => i.url && URL.revokeObjectURL(i.url));
      set({ cards: deleteClass(get().cards, id) });
    },
    addFiles(classId, files, split = 'train') {
      set({ cards: addImages(get().cards, classId, files.map((f) => cardImage(f.blob, f.name, split))) });
    },
    deleteImage(imageId) {
      const img = get().cards.flatMap((c) => c.images).find((i) => i.id === imageId);
      if (img?.url) URL.revokeObjectURL(img.url);
      set({ cards: deleteImage(get().cards, imageId) });
    },
    setHoldOut: (holdOut) => set({ holdOut: Math.min(0.9, Math.max(0, holdOut)) }),
    setSettings: (patch) => set({ settings: { ...get().settings, ...patch } }),
    setPosition: (position) => set({ position }),
    loadCards(cards, extraSets) {
      for (const c of get().cards) c.images.forEach((i) => i.url && URL.revokeObjectURL(i.url));
      set({ cards, extraSets, problems: [], fileErrors: [] });
    },

    async train(runtime) {
      if (get().waitingToTrain) return;
      if (get().loading.length) {
        // Pressed while the demo, a drop or a project is still loading: train on what it brings, once it is in.
        set({ waitingToTrain: true });
        await new Promise<void>((resolve) => idleWaiters.push(resolve));
        set({ waitingToTrain: false });
      }
      const s = get();
      if (s.history.status === 'running' || s.history.status === 'preparing' || s.history.status === 'stopping') return;
      try {
        const resumable = s.setup && !s.setup.evalOnly && s.setup.key === setupKey(s, runtime.key) && client && clientKey === runtime.key && s.history.status !== 'done';
        const checkpoint = resumable ? null : reloadCheckpoint(s, runtime);
        if (checkpoint) {
          // After a reload: the same data and settings, and the trainer continues from the run's last checkpoint.
          const run = s.runs.find((r) => r.id === s.activeRunId)!;
          await prepare(runtime, null, false, checkpoint, {
            status: 'ready',
            loss: run.loss.filter((p) => p.step <= checkpoint.step),
            epochs: run.epochs.filter((p) => p.epoch <= checkpoint.epoch),
            progress: run.progress,
            error: null,
          });
        } else if (!resumable) {
          const previous = s.activeRunId;
          const id = `run-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
          set({
            activeRunId: id,
            // The run shown so far stays on the charts beside the new one: comparing two settings is two clicks.
            overlay: previous && s.runs.some((r) => r.id === previous && r.loss.length) ? [...s.overlay.filter((o) => o !== previous), previous] : s.overlay,
            // Training on from an imported successor's prompt keeps its method with the extras it starts from.
            runs: [...s.runs, runFromState({ id, name: runName(s.settings, s.position, s.runs.length + 1), state: s, model: modelOf(runtime), dataKey: dataKey(s, runtime.folder) })],
          });
          await prepare(runtime, startContext(s, runtime));
          // A successor's run carries its method record (the file's, when it trains on from an imported one), so its
          // extras export and save with what made them.
          const setupNow = get().setup;
          const picked = useMethodStore.getState();
          const record = setupNow ? runMethodRecord(picked.method, picked.settings, textLayers(runtime), setupNow.classNames, templateOf(s.imported?.method)) : null;
          if (record) set({ runs: get().runs.map((r) => (r.id === id ? { ...r, method: record } : r)) });
        }
        set({ history: { ...get().history, status: 'running', error: null }, runError: null });
        client!.post({ type: 'train' });
      } catch (e) {
        set({ preparing: null, runError: get().problems.length ? null : (e as Error).message, history: { ...get().history, status: get().problems.length ? 'idle' : 'failed' } });
        // A run that never started (a problem in the data) is not kept.
        const run = get().runs.find((r) => r.id === get().activeRunId);
        if (run && run.loss.length === 0 && !run.view && get().problems.length) set({ runs: get().runs.filter((r) => r !== run), activeRunId: null });
      }
      syncRun();
    },

    stop() {
      if (get().history.status !== 'running') return;
      set({ history: { ...get().history, status: 'stopping' } });
      client?.post({ type: 'stop' });
    },

    reset() {
      const running = get().history.status === 'running' || get().history.status === 'stopping';
      client?.post({ type: 'reset' });
      set({ history: running || get().setup ? { ...EMPTY_HISTORY, status: 'ready' } : EMPTY_HISTORY, nearest: null, imported: null, runError: null, setup: null });
      // The run keeps what it learned in the runs list; the next Train starts a new one.
      if (running) syncRun();
      set({ activeRunId: null, snapshot: null });
    },

    async importPrompt(text, runtime) {
      const manifest = runtime.model.manifest;
      const parsed = parsePromptFile(text, {
        id: manifest.id,
        fingerprint: String(manifest.text_model_sha256 ?? ''),
        width: textWidth(runtime),
      });
      if (!parsed.ok) return set({ importError: parsed.error });
      const p = parsed.prompt;
      // DePT: the file's classes outside its head's base classes are new classes (scored with CLIP's logits).
      const deptBase = p.method?.name.startsWith('dept') ? successorFromFile(p.method).baseClasses : null;
      const dept = deptBase ? deptSplitOf(p.classNames, deptBase) : null;
      if (dept && 'problem' in dept) return set({ importError: `This ${METHOD_LABELS[p.method!.name]} prompt cannot be scored: ${dept.problem}.` });
      // Cards follow the file's classes; a card with a matching name keeps its images.
      const old = get().cards;
      const cards = p.classNames.map((name, i) => {
        const card = old.find((c) => c.name.trim() === name) ?? { id: newId(), name, images: [] };
        return dept ? { ...card, isNew: dept.isNew[i] || undefined } : card;
      });
      set({ importError: null, imported: p, cards, settings: { ...p.training }, position: p.position });
      // The file's method predicts with its extras; it is picked with the file's settings (not its recipe's).
      if (p.method) {
        const own = successorFromFile(p.method);
        useMethodStore.setState({ method: own.method, settings: { ...useMethodStore.getState().settings, ...own.settings }, beforeRecipe: null });
      } else if (isSuccessor(useMethodStore.getState().method)) useMethodStore.setState({ method: 'coop', beforeRecipe: null });
      // An imported prompt is kept as a run of its own (no curves), so it can be shown, compared and exported again.
      const id = `run-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
      const s = get();
      // A version-2 file's method stays with the run, so the run exports (and saves in a project) as it was read.
      const method = p.method ? { method: p.method } : {};
      set({ activeRunId: id, runs: [...s.runs, { ...runFromState({ id, name: `Imported prompt (${p.classNames.length} classes, M=${p.context.nCtx})`, state: s, model: modelOf(runtime), dataKey: '' }), imported: true, ...method }] });
      try {
        await prepare(runtime, p.context, true);
        set({ history: { ...get().history, status: 'done' } });
      } catch (e) {
        set({ importError: `The prompt was read, but predictions could not be restored: ${(e as Error).message}`, preparing: null });
      }
      syncRun();
    },

    async importAdapter(text, runtime) {
      const model = runtime.model.manifest;
      if (!runtime.imageFingerprint)
        return set({ importError: 'This page cannot fingerprint the image model (no WebCrypto: open the app over https or from localhost), so an adapter file cannot be checked against it.' });
      const dim = model.embed_dim;
      const parsed = parseAdapterFile(text, { id: model.id, imageFingerprint: runtime.imageFingerprint, dim });
      if (!parsed.ok) return set({ importError: parsed.error });
      const file = parsed.file;
      // Every usable image of the page, in its split, labelled by its card; the cards themselves stay as they are.
      const parts = splitImages(get().cards, get().holdOut);
      const names = get().cards.map((c) => c.name.trim());
      const list = [...parts.train.map((t) => ({ ...t, split: 'train' })), ...parts.test.map((t) => ({ ...t, split: 'test' }))];
      set({ importError: null, preparing: { label: 'Encoding images for the imported classifier', done: 0, total: list.length } });
      try {
        const clean = await cleanFeatures(list.map((t) => t.image), runtime, (done, total) => set({ preparing: { label: 'Encoding images for the imported classifier', done, total } }));
        const ok = list.map((_, i) => i).filter((i) => !clean.errors.has(i));
        const features = new Float32Array(ok.length * dim);
        ok.forEach((i, r) => features.set(clean.features.subarray(i * dim, (i + 1) * dim), r * dim));
        const images = ok.map((i) => ({ split: list[i].split, className: names[list[i].label], name: list[i].image.name }));
        set({ importedAdapter: { file, modelKey: runtime.key, score: scoreAdapter(file.weights, file.classNames, images, features, dim), images }, preparing: null });
      } catch (e) {
        set({ importError: `The ${FEATURE_METHOD_NAMES[file.weights.method]} file was read, but the images could not be scored: ${(e as Error).message}`, importedAdapter: { file, modelKey: runtime.key, score: { accuracies: {}, predictions: [], unknown: 0 }, images: [] }, preparing: null });
      }
    },

    requestNearest() {
      if (client && get().setup) client.post({ type: 'nearest', k: 5 });
    },
  };
});

/** Prompts the worker's text engine must reproduce through ORT's text tower before it trains (the load-time proof). */
const PROOF_TEXTS = ['a photo of a star.', 'a photo of a small red circle on a striped background.', 'X X X X X X X X X X X X X X X X disc.'];

async function proofPrompts(runtime: ModelRuntime): Promise<ProofPrompt[]> {
  const tokenizer = runtime.model.tokenizer;
  const rows = PROOF_TEXTS.map((t) => tokenizer.tokenize(t));
  const n = rows[0].length;
  const ids = new Int32Array(rows.length * n);
  rows.forEach((r, i) => ids.set(r, i * n));
  const embeds = await runtime.encoders.text.encodeIds(ids, rows.length);
  const e = embeds.length / rows.length;
  return PROOF_TEXTS.map((text, i) => ({ text, ids: Array.from(rows[i]), reference: Array.from(embeds.subarray(i * e, (i + 1) * e)) }));
}
