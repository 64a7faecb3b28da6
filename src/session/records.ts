/**
 * What the session keeps (in IndexedDB and in project files): the workspace (classes, images by key, test sets,
 * model, settings) and the runs. Plain data only (typed arrays, Blobs, numbers, strings), so IndexedDB's structured
 * clone stores it as is. `checkRun`/`checkWorkspace` say what is wrong with a record read back, so a corrupt one is
 * reported and skipped instead of breaking the whole session.
 */
import type { ContextVectors } from '../coop/context-init';
import type { PromptFileMethod } from '../coop/prompt-file';
import { readMethod } from '../coop/prompt-file-extras';
import type { ClassTokenPosition, TrainSettings } from '../coop/settings';
import type { TrainerCheckpoint } from '../coop/trainer';
import type { EpochPoint, LossPoint, RunProgress, RunStatus } from '../app/train/history';

export const WORKSPACE_VERSION = 1;

/** An image as the person gave it: the original file's bytes, never decoded pixels. */
export interface StoredImage {
  key: string;
  name: string;
  blob: Blob;
}

export interface WorkspaceImageRef {
  key: string;
  name: string;
  split: 'train' | 'test';
  error?: string;
}

export interface WorkspaceRecord {
  version: number;
  /** The model folder the workspace was built with (its id in the model picker). */
  model: string | null;
  /** `new`: left out of training (base-to-new); absent in records saved before base-to-new, meaning base. */
  classes: Array<{ name: string; images: WorkspaceImageRef[]; new?: boolean }>;
  extraSets: Array<{ name: string; items: Array<{ key: string; name: string; label: string }> }>;
  holdOut: number;
  settings: TrainSettings;
  position: ClassTokenPosition;
  /** The run shown on the page (curves, results, predictions). */
  activeRunId: string | null;
  /** Runs whose curves are drawn over the shown one. */
  overlay: string[];
}

/** A run's setup as the worker prepared it; the Train page's SetupInfo and the runs' setup build on it. */
export interface RunSetup {
  classNames: string[];
  nCtx: number;
  csc: boolean;
  maxEpochs: number;
  stepsPerEpoch: number;
  note: string | null;
  /** Labels of every evaluated split, to build per-class accuracy and the confusion matrix. */
  labels: Record<string, Int32Array>;
  nTrain: number;
  /**
   * Base-to-new runs: the classes left out of training, in order (`classNames` are then the base classes). Splits
   * keyed `${split}/new` are labelled and predicted among these (src/coop/base-to-new.ts).
   */
  newClassNames?: string[];
}

/** The results a run's page shows: its setup (labels per split), last snapshot and baselines. */
export interface RunView extends RunSetup {
  /** Last snapshot of the run: context, text features, predictions and accuracies per split. */
  context: ContextVectors | null;
  textFeatures: Float32Array;
  predictions: Record<string, Int32Array>;
  accuracies: Record<string, number>;
  epoch: number;
  step: number;
  baselines: {
    hand: { zeroShot: { text: Float32Array; accuracy: Record<string, number> }; ensemble: { text: Float32Array; accuracy: Record<string, number> } } | null;
    linearProbe: Record<string, number> | null;
    probeLambda?: number;
  };
}

export interface RunRecord {
  id: string;
  name: string;
  /** ISO time of the first Train. */
  created: string;
  model: { folder: string; id: string; fingerprint: string };
  settings: TrainSettings;
  position: ClassTokenPosition;
  /** The data the run trained on (classes, images, test sets, hold-out): Resume after a reload needs the same. */
  dataKey: string;
  status: RunStatus;
  error: string | null;
  loss: LossPoint[];
  epochs: EpochPoint[];
  progress: RunProgress | null;
  view: RunView | null;
  /** Taken after every epoch (and at stop / end): what Resume continues from after a reload. */
  checkpoint: TrainerCheckpoint | null;
  /** A prompt imported from a file rather than trained here. */
  imported?: boolean;
  /**
   * The successor that trained the run's extras (context-init.ts) and its settings, as the prompt file writes them
   * (prompt-file.ts PromptFileMethod); absent for CoOp, KgCoOp and ProGrad and in records saved before successors.
   */
  method?: PromptFileMethod;
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isF32 = (x: unknown): x is Float32Array => x instanceof Float32Array;

const allFinite = (a: Float32Array) => a.every(Number.isFinite);

/** A successor's tensors beside the context (context-init.ts NamedParam); absent in records saved before them. */
function checkExtras(extras: unknown, what: string): string | null {
  if (extras === undefined) return null;
  if (!Array.isArray(extras)) return `${what} has damaged extra tensors`;
  for (const p of extras) {
    if (!isObj(p) || typeof p.name !== 'string' || !Array.isArray(p.shape) || !isF32(p.data)) return `${what} has a damaged extra tensor`;
    if (!p.shape.every((d) => Number.isInteger(d) && d >= 1)) return `${what}'s ${p.name} has a damaged shape`;
    const size = (p.shape as number[]).reduce((a, b) => a * b, 1);
    if (p.data.length !== size) return `${what}'s ${p.name} holds ${p.data.length} values for [${p.shape.join(', ')}]`;
    if (!allFinite(p.data)) return `${what}'s ${p.name} has non-finite values`;
    if (p.lrScale !== undefined && !(typeof p.lrScale === 'number' && p.lrScale > 0)) return `${what}'s ${p.name} has a damaged lr scale`;
  }
  return null;
}

function checkContext(c: unknown, what: string): string | null {
  if (c === null) return null;
  if (!isObj(c) || !isF32(c.data) || typeof c.nCtx !== 'number' || typeof c.dim !== 'number' || typeof c.cscClasses !== 'number') return `${what} is not a context`;
  const sets = Math.max(1, c.cscClasses);
  if (c.data.length !== sets * c.nCtx * c.dim) return `${what} holds ${c.data.length} values for ${sets}×${c.nCtx}×${c.dim}`;
  if (!allFinite(c.data)) return `${what} has non-finite values`;
  return checkExtras(c.extras, what);
}

/**
 * The optimizer's state in a checkpoint, against its context: SGD's momentum of the context and of each extra, or
 * Adam's per-tensor state (trainer.ts TrainerCheckpoint). The trainer's restore checks it again against its run.
 */
function checkOptimizerState(cp: Record<string, unknown>): string | null {
  if (!isObj(cp.context)) return "a damaged checkpoint's context";
  const ctx = cp.context as unknown as ContextVectors;
  const lengths = [ctx.data.length, ...(ctx.extras ?? []).map((p) => p.data.length)];
  const fits = (b: unknown, n: number) => b === null || (isF32(b) && b.length === n);
  if (cp.momentum !== null && !(isF32(cp.momentum) && cp.momentum.length === lengths[0])) return "a damaged checkpoint's momentum";
  if (cp.extrasMomentum !== undefined) {
    const m = cp.extrasMomentum;
    if (!Array.isArray(m) || m.length !== lengths.length - 1 || !m.every((b, j) => fits(b, lengths[j + 1]))) return "a damaged checkpoint's momentum of the extra tensors";
  }
  if (cp.adam !== undefined) {
    const a = cp.adam;
    const ok = (s: unknown, i: number) => isObj(s) && Number.isInteger(s.step) && (s.step as number) >= 0 && fits(s.expAvg, lengths[i]) && fits(s.expAvgSq, lengths[i]);
    if (!Array.isArray(a) || a.length !== lengths.length || !a.every(ok)) return "a damaged checkpoint's Adam state";
  }
  return null;
}

/** null when the record can be used; otherwise what is wrong with it. */
export function checkRun(r: unknown): string | null {
  if (!isObj(r)) return 'not an object';
  if (typeof r.id !== 'string' || typeof r.name !== 'string') return 'no id or name';
  if (!isObj(r.settings) || typeof r.settings.seed !== 'number') return 'no settings';
  if (!Array.isArray(r.loss) || !Array.isArray(r.epochs)) return 'no curves';
  if (!r.loss.every((p) => isObj(p) && typeof p.step === 'number' && typeof p.loss === 'number')) return 'a damaged loss curve';
  if (r.view !== null) {
    if (!isObj(r.view) || !Array.isArray(r.view.classNames) || !isObj(r.view.labels) || !isObj(r.view.accuracies)) return 'damaged results';
    const bad = checkContext(r.view.context, 'its context');
    if (bad) return bad;
  }
  if (r.method !== undefined) {
    // Checked as a prompt file's method is (a project's run carries it in project.json as well).
    try {
      readMethod(r.method);
    } catch (e) {
      return `a damaged method (${(e as Error).message})`;
    }
  }
  if (r.checkpoint !== null) {
    const cp = r.checkpoint;
    if (!isObj(cp) || typeof cp.epoch !== 'number' || typeof cp.step !== 'number') return 'a damaged checkpoint';
    const bad = checkContext(cp.context, "its checkpoint's context");
    if (bad) return bad;
    const badOpt = checkOptimizerState(cp);
    if (badOpt) return badOpt;
  }
  return null;
}

export function checkWorkspace(w: unknown): string | null {
  if (!isObj(w)) return 'not an object';
  if (w.version !== WORKSPACE_VERSION) return `version ${String(w.version)}, this app reads ${WORKSPACE_VERSION}`;
  if (!Array.isArray(w.classes) || !w.classes.every((c) => isObj(c) && typeof c.name === 'string' && Array.isArray(c.images))) return 'damaged classes';
  if (!Array.isArray(w.extraSets) || !isObj(w.settings)) return 'damaged test sets or settings';
  return null;
}

export function checkImage(i: unknown): string | null {
  if (!isObj(i) || typeof i.key !== 'string' || typeof i.name !== 'string') return 'not an image record';
  if (!(i.blob instanceof Blob)) return `image "${i.name}" has no file data`;
  return null;
}
