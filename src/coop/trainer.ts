/**
 * The CoOp training loop, independent of its host (Web Worker, Node) and of the engine computing the loss.
 *
 * Per step: gather the batch's cached view features, ask the injected `lossAndGrad` (the WGSL text engine) for the
 * cross-entropy and its gradient with respect to the context (and to the context's extras, a successor's other
 * tensors), and apply the run's optimizer (SGD, or Adam) to every tensor at the epoch's lr. After each epoch the
 * injected `evaluate` scores the current context. The loop is an async generator of events, so the host decides
 * how to forward them (postMessage, a store) and can stop between any two steps.
 *
 * Stop keeps everything (context, optimizer state, schedule position); run() again resumes exactly where it
 * stopped, and because each epoch's sampling depends only on (seed, epoch), a stopped-and-resumed run equals an
 * uninterrupted one.
 * An exception from `lossAndGrad` or `evaluate` (a lost GPU device) propagates to the consumer with no update
 * applied, and leaves the trainer stopped and resumable.
 */
import { cloneContext, type ContextVectors } from './context-init';
import { argmaxRows, accuracy } from './metrics';
import { epochPlan, gatherBatch, type Batch } from './sampler';
import { lrAtEpoch, resolveEpochs } from './schedule';
import type { TrainSettings } from './settings';
import type { AdamState } from './adam';
import { cloneOptimizerState, createOptimizerState, optimizerOf, optimizerStep, type OptimizerState } from './param-optimizer';
import { checkpointOptimizer, extrasMismatch, optimizerFromCheckpoint } from './trainer-state';

export interface LossAndGrad {
  loss: number;
  /** [B, K] row-major. */
  logits: Float32Array;
  /** Same layout as the context's data. */
  gradCtx: Float32Array;
  /** d loss / d each of the context's extras (context-init.ts NamedParam), in their order. */
  gradExtras?: Float32Array[];
  /** A method's loss parts for display (KgCoOp: ce, kg; ProGrad: ce, kl, cos, projected). */
  terms?: Record<string, number>;
}

/** Must not modify `ctx`. */
export type LossAndGradFn = (ctx: ContextVectors, features: Float32Array, labels: Int32Array) => Promise<LossAndGrad> | LossAndGrad;

/** Accuracies in [0, 1]; any further named splits (e.g. a shifted test set) are passed through to the event. */
export interface EvalResult {
  trainAcc: number;
  testAcc?: number;
  [split: string]: number | undefined;
}

export type EvaluateFn = (ctx: ContextVectors) => Promise<EvalResult> | EvalResult;

/** The training images' cached features: V augmented views each, L2-normalized, [N, V, E] row-major. */
export interface TrainingSet {
  viewFeatures: Float32Array;
  nImages: number;
  nViews: number;
  dim: number;
  labels: ArrayLike<number>;
  nClasses: number;
}

export interface TrainerOptions {
  settings: TrainSettings;
  data: TrainingSet;
  /** From context-init.ts; copied, and restored by reset(). */
  initialContext: ContextVectors;
  lossAndGrad: LossAndGradFn;
  evaluate?: EvaluateFn;
  /** Milliseconds clock; performance.now by default. */
  now?: () => number;
  /**
   * The batches of each 0-based epoch. By default sampler.ts's seeded draw (epochPlan); `coop:trace` passes the
   * exact batches of a PyTorch run so the two trajectories can be compared step by step.
   */
  plan?: (epoch: number) => Batch[];
}

/** Epochs and steps in events are 1-based, as a person counts them. */
export type TrainEvent =
  | {
      type: 'step';
      /** Steps completed since the start, all epochs. */
      step: number;
      epoch: number;
      stepInEpoch: number;
      stepsPerEpoch: number;
      totalSteps: number;
      loss: number;
      /** The method's loss parts, when it has any (prompt-methods.ts). */
      terms?: Record<string, number>;
      lr: number;
      batchAcc: number;
      /** Time spent running (stopped time excluded), summed over resumes. */
      elapsedMs: number;
      /** Throughput since this run()/resume began, evaluation included. */
      stepsPerSec: number;
    }
  | { type: 'epoch'; epoch: number; trainAcc: number; testAcc?: number; metrics: EvalResult; elapsedMs: number }
  | { type: 'stopped'; epoch: number; step: number }
  | { type: 'done'; epoch: number; step: number; elapsedMs: number }
  | { type: 'error'; message: string; epoch: number; stepInEpoch: number };

export type TrainerStatus = 'idle' | 'running' | 'stopped' | 'done' | 'failed';

/**
 * Everything a run needs to continue after the page (or the worker) is gone: the context (with its extras), the
 * optimizer's state of every tensor and the position in the schedule (the lr follows from the epoch). The sampler
 * and the views keep no state of their own: each epoch's batches come from (seed, epoch) (sampler.ts) and the views
 * were drawn from the seed when they were encoded, so the same settings and images plus this checkpoint give
 * exactly the uninterrupted run. trainer-state.ts moves the optimizer state in and out, and checks it.
 */
export interface TrainerCheckpoint {
  context: ContextVectors;
  /** SGD's momentum buffer of the context: null before the first step (PyTorch creates it lazily), and with Adam. */
  momentum: Float32Array | null;
  /** SGD's momentum buffers of the context's extras, in their order; absent when the context has none. */
  extrasMomentum?: Array<Float32Array | null>;
  /**
   * Adam's state of the context, then of each extra; absent with SGD (and in checkpoints saved before Adam, all SGD).
   */
  adam?: AdamState[];
  /** 0-based epoch in progress, 0-based next batch, steps completed. */
  epoch: number;
  batch: number;
  step: number;
  elapsedMs: number;
}

interface Position {
  /** 0-based epoch in progress. */
  epoch: number;
  /** 0-based batch within the epoch to run next. */
  batch: number;
  /** Steps completed overall. */
  step: number;
}

interface Snapshot {
  ctx: Float32Array;
  extras: Float32Array[];
  opt: OptimizerState;
  pos: Position;
}

function describeNonFinite(x: number): string {
  return Number.isNaN(x) ? 'NaN' : 'infinite';
}

function firstNonFinite(a: Float32Array): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return i;
  return -1;
}

/** The first non-finite value among tensors: which tensor, which index, and the value; null when all are finite. */
function firstNonFiniteOf(tensors: readonly Float32Array[]): { t: number; i: number; x: number } | null {
  for (let t = 0; t < tensors.length; t++) {
    const i = firstNonFinite(tensors[t]);
    if (i >= 0) return { t, i, x: tensors[t][i] };
  }
  return null;
}

export class CoopTrainer {
  readonly settings: TrainSettings;
  readonly maxEpochs: number;
  readonly stepsPerEpoch: number;
  private readonly data: TrainingSet;
  private readonly lossAndGrad: LossAndGradFn;
  private readonly evaluate?: EvaluateFn;
  private readonly now: () => number;
  private readonly planFor: (epoch: number) => Batch[];
  private initial: ContextVectors;
  private ctx: ContextVectors;
  private opt: OptimizerState;
  private pos: Position = { epoch: 0, batch: 0, step: 0 };
  private elapsed = 0;
  private lastGood: Snapshot | null = null;
  private planCache: { epoch: number; plan: Batch[] } | null = null;
  private stopRequested = false;
  // Bumped by reset(): a run whose generation is stale must not touch the fresh state when its await returns.
  private generation = 0;
  private _status: TrainerStatus = 'idle';
  private _error: string | null = null;

  constructor(opts: TrainerOptions) {
    const { settings, data, initialContext } = opts;
    if (data.viewFeatures.length !== data.nImages * data.nViews * data.dim) {
      throw new RangeError(`view features have ${data.viewFeatures.length} values, expected ${data.nImages}×${data.nViews}×${data.dim}`);
    }
    if (data.labels.length !== data.nImages) throw new RangeError(`${data.labels.length} labels for ${data.nImages} images`);
    if (data.nImages === 0) throw new RangeError('no training images');
    this.settings = { ...settings };
    this.data = data;
    this.lossAndGrad = opts.lossAndGrad;
    this.evaluate = opts.evaluate;
    this.now = opts.now ?? (() => performance.now());
    this.maxEpochs = resolveEpochs(settings, data.nImages, data.nClasses);
    this.planFor =
      opts.plan ?? ((epoch) => epochPlan({ nImages: data.nImages, nViews: data.nViews, batchSize: settings.batchSize, seed: settings.seed, epoch }));
    this.stepsPerEpoch = this.planFor(0).length;
    this.initial = cloneContext(initialContext);
    this.ctx = cloneContext(initialContext);
    this.opt = this.freshOptimizer();
  }

  /** One state per tensor: the context and each extra. */
  private freshOptimizer(): OptimizerState {
    return createOptimizerState(optimizerOf(this.settings), 1 + (this.ctx.extras?.length ?? 0));
  }

  private get extras(): Float32Array[] {
    return this.ctx.extras?.map((p) => p.data) ?? [];
  }

  get status(): TrainerStatus {
    return this._status;
  }

  /** The message of the last failure, until the next run or reset. */
  get error(): string | null {
    return this._error;
  }

  /** A copy of the current context. */
  get context(): ContextVectors {
    return cloneContext(this.ctx);
  }

  get totalSteps(): number {
    return this.maxEpochs * this.stepsPerEpoch;
  }

  /** 0-based epoch in progress, 0-based next batch, steps completed. */
  get position(): Readonly<Position> {
    return { ...this.pos };
  }

  get elapsedMs(): number {
    return this.elapsed;
  }

  /** lr the next step will use. */
  get currentLr(): number {
    return lrAtEpoch(Math.min(this.pos.epoch, this.maxEpochs - 1), this.maxEpochs, this.settings);
  }

  /** A copy of the state a later restore() continues from (see TrainerCheckpoint). */
  checkpoint(): TrainerCheckpoint {
    return {
      context: cloneContext(this.ctx),
      ...checkpointOptimizer(this.opt, this.ctx.extras?.length ?? 0),
      ...this.pos,
      elapsedMs: this.elapsed,
    };
  }

  /** Continues from a checkpoint of a trainer with the same settings and data; not while running. */
  restore(cp: TrainerCheckpoint): void {
    if (this._status === 'running') throw new Error('stop training before restoring a checkpoint');
    const n = this.ctx.data.length;
    if (cp.context.data.length !== n || cp.context.nCtx !== this.ctx.nCtx || cp.context.cscClasses !== this.ctx.cscClasses) {
      throw new RangeError(`the checkpoint's context (${cp.context.data.length} values) does not fit this run's (${n})`);
    }
    const badExtras = extrasMismatch(cp.context.extras, this.ctx.extras);
    if (badExtras) throw new RangeError(`the checkpoint's ${badExtras}`);
    const opt = optimizerFromCheckpoint(cp, optimizerOf(this.settings), [n, ...this.extras.map((e) => e.length)]);
    const steps = this.stepsPerEpoch;
    if (!(cp.epoch >= 0 && cp.epoch <= this.maxEpochs && cp.batch >= 0 && cp.batch <= steps && cp.step === cp.epoch * steps + cp.batch)) {
      throw new RangeError(`the checkpoint's position (epoch ${cp.epoch}, batch ${cp.batch}, step ${cp.step}) does not fit this run's schedule`);
    }
    this.generation++;
    this.ctx = cloneContext(cp.context);
    this.opt = opt;
    this.pos = { epoch: cp.epoch, batch: cp.batch, step: cp.step };
    this.elapsed = cp.elapsedMs;
    this.lastGood = null;
    this.stopRequested = false;
    this._status = cp.epoch >= this.maxEpochs ? 'done' : cp.step > 0 ? 'stopped' : 'idle';
    this._error = null;
  }

  /** Ends the running loop after the step in flight; run() resumes. */
  stop(): void {
    if (this._status === 'running') this.stopRequested = true;
  }

  /** Back to the initial (or a new) context, a fresh optimizer and epoch 0. A running loop ends without emitting. */
  reset(initialContext?: ContextVectors): void {
    this.generation++;
    if (initialContext) this.initial = cloneContext(initialContext);
    this.ctx = cloneContext(this.initial);
    this.opt = this.freshOptimizer();
    this.pos = { epoch: 0, batch: 0, step: 0 };
    this.elapsed = 0;
    this.lastGood = null;
    this.stopRequested = false;
    this._status = 'idle';
    this._error = null;
  }

  /**
   * A tensor's lr at `epoch` when its lrScale multiplies the base lr, as a parameter group created at lr × scale:
   * Dassl's constant warmup sets every group to the same warmup lr, and the cosine then runs from each group's base.
   */
  private lrFor(epoch: number, scale: number | undefined, lr: number): number {
    if (scale === undefined || scale === 1) return lr;
    return lrAtEpoch(epoch, this.maxEpochs, { ...this.settings, lr: this.settings.lr * scale });
  }

  private plan(epoch: number): Batch[] {
    if (this.planCache?.epoch !== epoch) this.planCache = { epoch, plan: this.planFor(epoch) };
    return this.planCache.plan;
  }

  private fail(message: string, at: Position): TrainEvent {
    // Back to the state before the last update, whose result is the one that went bad; every tensor, the optimizer's
    // state and the schedule position go back with it so that a resume replays that update at the (lowered) lr.
    const good = this.lastGood;
    if (good) {
      this.ctx.data.set(good.ctx);
      this.extras.forEach((e, j) => e.set(good.extras[j]));
      this.opt = good.opt;
      this.pos = good.pos;
      this.lastGood = null;
    }
    this._status = 'failed';
    this._error = message;
    return { type: 'error', message, epoch: at.epoch + 1, stepInEpoch: at.batch + 1 };
  }

  /** Runs (or resumes) until done, stop(), reset() or a non-finite loss. */
  async *run(): AsyncGenerator<TrainEvent, void, void> {
    if (this._status === 'running') throw new Error('training is already running');
    const gen = this.generation;
    this._status = 'running';
    this._error = null;
    this.stopRequested = false;
    try {
      yield* this.loop(gen);
    } finally {
      // A consumer that breaks out of its for-await ends the loop too; the state stays resumable.
      if (gen === this.generation && this._status === 'running') this._status = 'stopped';
    }
  }

  private async *loop(gen: number): AsyncGenerator<TrainEvent, void, void> {
    const { settings, data } = this;
    const runStart = this.now();
    let last = runStart;
    let stepsThisRun = 0;
    const tick = () => {
      const t = this.now();
      this.elapsed += t - last;
      last = t;
    };

    while (this.pos.epoch < this.maxEpochs) {
      const epoch = this.pos.epoch;
      const plan = this.plan(epoch);
      const lr = lrAtEpoch(epoch, this.maxEpochs, settings);
      while (this.pos.batch < plan.length) {
        if (this.stopRequested) {
          tick();
          this.stopRequested = false;
          this._status = 'stopped';
          yield { type: 'stopped', epoch: epoch + 1, step: this.pos.step };
          return;
        }
        const at = { ...this.pos };
        const { features, labels } = gatherBatch(plan[at.batch], data.viewFeatures, data.nViews, data.dim, data.labels);
        const res = await this.lossAndGrad(this.ctx, features, labels);
        if (gen !== this.generation) return;
        const where = `epoch ${at.epoch + 1} step ${at.batch + 1}`;
        const advice = 'the context was restored to the last finite values. Lower the learning rate and resume.';
        if (!Number.isFinite(res.loss)) {
          tick();
          yield this.fail(`Loss became ${describeNonFinite(res.loss)} at ${where}; ${advice}`, at);
          return;
        }
        if (res.gradCtx.length !== this.ctx.data.length) {
          tick();
          this._status = 'failed';
          this._error = `The engine returned a gradient of ${res.gradCtx.length} values for a context of ${this.ctx.data.length}.`;
          yield { type: 'error', message: this._error, epoch: at.epoch + 1, stepInEpoch: at.batch + 1 };
          return;
        }
        const extras = this.ctx.extras ?? [];
        const gradExtras = res.gradExtras ?? [];
        const wrongExtra = gradExtras.length !== extras.length ? -1 : extras.findIndex((p, j) => gradExtras[j].length !== p.data.length);
        if (gradExtras.length !== extras.length || wrongExtra >= 0) {
          tick();
          this._status = 'failed';
          this._error =
            wrongExtra >= 0
              ? `The engine returned a gradient of ${gradExtras[wrongExtra].length} values for ${extras[wrongExtra].name} of ${extras[wrongExtra].data.length}.`
              : `The engine returned ${gradExtras.length} gradients for the context's ${extras.length} extra tensors.`;
          yield { type: 'error', message: this._error, epoch: at.epoch + 1, stepInEpoch: at.batch + 1 };
          return;
        }
        const badGrad = firstNonFiniteOf([res.gradCtx, ...gradExtras]);
        if (badGrad) {
          tick();
          const of = badGrad.t === 0 ? '' : ` of ${extras[badGrad.t - 1].name}`;
          yield this.fail(`The gradient${of} became ${describeNonFinite(badGrad.x)} at ${where}; ${advice}`, at);
          return;
        }
        this.lastGood = { ctx: this.ctx.data.slice(), extras: extras.map((p) => p.data.slice()), opt: cloneOptimizerState(this.opt), pos: at };
        optimizerStep(this.opt, 0, this.ctx.data, res.gradCtx, lr, settings);
        // Each extra at its own lr: scaled as its parameter group's base lr would be (schedule.ts lrAtEpoch).
        extras.forEach((p, j) => optimizerStep(this.opt, 1 + j, p.data, gradExtras[j], this.lrFor(epoch, p.lrScale, lr), settings));
        const badCtx = firstNonFiniteOf([this.ctx.data, ...extras.map((p) => p.data)]);
        if (badCtx) {
          // The update itself overflowed: the state before it is the last finite one.
          tick();
          const what = badCtx.t === 0 ? 'The context' : extras[badCtx.t - 1].name;
          yield this.fail(`${what} became ${describeNonFinite(badCtx.x)} after the update at ${where}; ${advice}`, at);
          return;
        }
        this.pos = { epoch, batch: at.batch + 1, step: at.step + 1 };
        stepsThisRun++;
        tick();
        const nClasses = res.logits.length / labels.length;
        const batchAcc = Number.isInteger(nClasses) && nClasses > 0 ? accuracy(argmaxRows(res.logits, labels.length, nClasses), labels) : NaN;
        const sinceRun = last - runStart;
        yield {
          type: 'step',
          step: this.pos.step,
          epoch: epoch + 1,
          stepInEpoch: at.batch + 1,
          stepsPerEpoch: plan.length,
          totalSteps: this.totalSteps,
          loss: res.loss,
          ...(res.terms ? { terms: res.terms } : {}),
          lr,
          batchAcc,
          elapsedMs: this.elapsed,
          stepsPerSec: sinceRun > 0 ? (1000 * stepsThisRun) / sinceRun : 0,
        };
        if (gen !== this.generation) return;
      }
      this.pos = { epoch: epoch + 1, batch: 0, step: this.pos.step };
      if (this.evaluate) {
        const metrics = await this.evaluate(this.ctx);
        if (gen !== this.generation) return;
        tick();
        yield { type: 'epoch', epoch: epoch + 1, trainAcc: metrics.trainAcc, testAcc: metrics.testAcc, metrics, elapsedMs: this.elapsed };
        if (gen !== this.generation) return;
      }
    }
    tick();
    this._status = 'done';
    yield { type: 'done', epoch: this.maxEpochs, step: this.pos.step, elapsedMs: this.elapsed };
  }
}
