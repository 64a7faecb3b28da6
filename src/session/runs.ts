/**
 * Runs: every Train makes one (its settings, curves, context, results and checkpoint). These functions move
 * between the Train page's state and the stored RunRecord, both ways, so the page and the database never disagree
 * on what a run is.
 */
import type { ClassTokenPosition, TrainSettings } from '../coop/settings';
import type { History } from '../app/train/history';
import type { Snapshot } from '../worker/protocol';
import type { RunRecord, RunSetup, RunView } from './records';

/** The parts of the Train page's state a run is made of (structural: the store imports this module). */
export interface RunSource {
  settings: TrainSettings;
  position: ClassTokenPosition;
  history: History;
  setup: (RunSetup & { settings: TrainSettings; position: ClassTokenPosition; evalOnly: boolean }) | null;
  snapshot: Snapshot | null;
  baselines: RunView['baselines'];
}

export function runName(s: TrainSettings, position: ClassTokenPosition, n: number): string {
  return `Run ${n}: ${s.csc ? 'CSC' : 'unified'}, M=${s.init === 'words' ? `"${s.initWords}"` : s.nCtx}, ${position}, lr ${s.lr}${s.optimizer === 'adam' ? ' (Adam)' : ''}, seed ${s.seed}`;
}

/**
 * The record of a run from the page's state. A new run (`model` and `dataKey` given) starts from the page's
 * settings; an existing one (`base`) keeps its identity and takes the page's current curves and results.
 */
export function runFromState(args: {
  id: string;
  name: string;
  state: RunSource;
  base?: RunRecord;
  model?: RunRecord['model'];
  dataKey?: string;
}): RunRecord {
  const { state: s, base } = args;
  const setup = s.setup;
  const snap = s.snapshot;
  const view: RunView | null =
    setup && snap
      ? {
          classNames: setup.classNames,
          nCtx: setup.nCtx,
          csc: setup.csc,
          maxEpochs: setup.maxEpochs,
          stepsPerEpoch: setup.stepsPerEpoch,
          note: setup.note,
          labels: setup.labels,
          nTrain: setup.nTrain,
          ...(setup.newClassNames ? { newClassNames: setup.newClassNames } : {}),
          context: snap.context,
          textFeatures: snap.textFeatures,
          predictions: snap.predictions,
          accuracies: snap.accuracies,
          epoch: snap.epoch,
          step: snap.step,
          baselines: s.baselines,
        }
      : (base?.view ?? null);
  return {
    id: args.id,
    name: args.name,
    created: base?.created ?? new Date().toISOString(),
    model: base?.model ?? args.model!,
    settings: setup?.settings ?? base?.settings ?? s.settings,
    position: setup?.position ?? base?.position ?? s.position,
    dataKey: base?.dataKey ?? args.dataKey ?? '',
    status: s.history.status,
    error: s.history.error,
    loss: s.history.loss,
    epochs: s.history.epochs,
    progress: s.history.progress,
    view,
    checkpoint: snap?.checkpoint ?? base?.checkpoint ?? null,
    ...(base?.imported ? { imported: true } : {}),
    // The successor that learned the extras stays with the run through every sync.
    ...(base?.method ? { method: base.method } : {}),
  };
}

/** The page's setup for a stored run; its key is empty, so Train prepares again (or resumes from the checkpoint). */
export function setupFromRun(run: RunRecord): (NonNullable<RunSource['setup']> & { key: string }) | null {
  const v = run.view;
  if (!v) return null;
  return {
    key: '',
    classNames: v.classNames,
    nCtx: v.nCtx,
    csc: v.csc,
    maxEpochs: v.maxEpochs,
    stepsPerEpoch: v.stepsPerEpoch,
    note: v.note,
    labels: v.labels,
    settings: run.settings,
    position: run.position,
    nTrain: v.nTrain,
    ...(v.newClassNames ? { newClassNames: v.newClassNames } : {}),
    evalOnly: !!run.imported,
  };
}

export function snapshotFromRun(run: RunRecord): Snapshot | null {
  const v = run.view;
  if (!v?.context) return null;
  return { context: v.context, textFeatures: v.textFeatures, predictions: v.predictions, accuracies: v.accuracies, epoch: v.epoch, step: v.step, checkpoint: run.checkpoint };
}
