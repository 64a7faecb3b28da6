/**
 * The worker's state machine, independent of the Worker global so Node tests can drive it: it answers
 * WorkerRequests by posting WorkerReplies. It owns the text engine, the CoOp trainer and the learned context.
 *
 * Nothing learned is lost on failure: after every epoch, stop, finish or error the current context goes to the
 * page in a snapshot, and the trainer itself keeps the last finite context when a loss turns NaN.
 */
import { argmaxRows, accuracy } from '../coop/metrics';
import { cloneContext, randomContext, wordContext, type ContextVectors } from '../coop/context-init';
import { linearProbe, probePredict } from '../coop/linear-probe';
import { nearestDeepTokens, nearestTokens } from '../coop/nearest-tokens';
import { CoopTrainer, type EvalResult } from '../coop/trainer';
import { methodLearnerConfig } from '../coop/method-learner';
import { isSuccessor, promptLearner, type ClassScorer, type LearnerConfig, type PromptLearner } from '../coop/prompt-learner';
import { withSuccessorExtras } from '../coop/successors';
import { METHOD_LABELS } from '../coop/method-settings';
import { buildTipCache, searchTipParams, tipLogits, trainTipAdapterF, TIP_ADAPTER_DEFAULTS, type TipParams } from '../coop/tip-adapter';
import type { PromptSpec } from '../engine/prompt';
import { baseKey, baseToNewParts, baseToNewScores, subsetClasses } from '../coop/base-to-new';
import type { TextEngineLike } from './text-engine';
import { errorMessage, type AdapterResult, type EvalSet, type SetupRequest, type Snapshot, type WorkerReply, type WorkerRequest } from './protocol';

export type Post = (reply: WorkerReply) => void;

/**
 * Creates the engine once the text weights are known; `preferGpu` false forces the CPU twin. `onLost` is called
 * if the engine's GPU device goes away later.
 */
export type EngineFactory = (req: Extract<WorkerRequest, { type: 'init' }>, onLost: (message: string) => void) => Promise<TextEngineLike>;

/** Lets queued messages (Stop) in between steps: a CPU step never yields to the event loop by itself. */
const nextTask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** Scores normalized [N, E] features against normalized [K, E] text features: predicted class per row. */
export function predictClasses(features: Float32Array, text: Float32Array, dim: number): Int32Array {
  const n = features.length / dim;
  const k = text.length / dim;
  const scores = new Float32Array(n * k);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let e = 0; e < dim; e++) s += features[r * dim + e] * text[c * dim + e];
      scores[r * k + c] = s;
    }
  }
  return argmaxRows(scores, n, k);
}

export class TrainSession {
  private engine: TextEngineLike | null = null;
  private initReq: Extract<WorkerRequest, { type: 'init' }> | null = null;
  private promptSpec: PromptSpec | null = null;
  /** Base-to-new: the new classes' prompts, swapped in only to score them. */
  private newSpec: PromptSpec | null = null;
  /** Set when the engine's GPU device was lost: the next Train builds a new engine and resumes. */
  private engineLost = false;
  private setupReq: SetupRequest | null = null;
  private trainer: CoopTrainer | null = null;
  /** The context of an evaluation-only setup (an imported prompt), which has no trainer. */
  private fixed: ContextVectors | null = null;
  /** The method's loss and scores (prompt-learner.ts), built at setup. */
  private learner: PromptLearner | null = null;
  private running = false;
  private lastSnapshot: Snapshot | null = null;

  constructor(
    private readonly post: Post,
    private readonly createEngine: EngineFactory,
  ) {}

  private queue: Promise<void> = Promise.resolve();

  /**
   * Requests run one at a time, in order: the engine takes one step at a time, and a Train sent right after
   * setup-done must wait for the setup's own evaluation. Stop cannot wait for the run it ends, so it acts at once
   * (Reset too stops the run at once, then resets in turn); nearest tokens touch only the CPU.
   */
  handle(req: WorkerRequest): Promise<void> {
    if (req.type === 'stop' || req.type === 'nearest') return this.handleNow(req);
    if (req.type === 'reset') this.trainer?.stop();
    const run = this.queue.then(() => this.handleNow(req));
    this.queue = run;
    return run;
  }

  private async handleNow(req: WorkerRequest): Promise<void> {
    try {
      switch (req.type) {
        case 'init': {
          this.engine?.dispose();
          this.initReq = req;
          this.engineLost = false;
          this.engine = await this.createEngine(req, (message) => this.deviceLost(message));
          this.post({ type: 'ready', engine: this.engine.kind, detail: this.engine.detail, choice: this.engine.choice, threads: this.engine.threads });
          return;
        }
        case 'setup':
          return await this.setup(req);
        case 'train':
          return await this.train();
        case 'stop':
          this.trainer?.stop();
          return;
        case 'reset': {
          if (!this.trainer) return;
          this.trainer.reset();
          this.running = false;
          await this.sendSnapshot();
          return;
        }
        case 'nearest':
          return this.nearest(req.k);
        case 'linear-probe':
          return this.linearProbe(req);
        case 'adapter':
          return this.adapter(req);
      }
    } catch (e) {
      this.post({ type: 'error', during: req.type, message: errorMessage(e) });
    }
  }

  private deviceLost(message: string): void {
    this.engineLost = true;
    this.trainer?.stop();
    this.post({ type: 'error', during: 'worker', message, deviceLost: true });
  }

  /** The context the page would lose if the worker died now. */
  get snapshot(): Snapshot | null {
    return this.lastSnapshot;
  }

  private requireEngine(): TextEngineLike {
    if (!this.engine) throw new Error('the text engine is not loaded yet');
    return this.engine;
  }

  /** The initial context, with a successor's extras (a fresh init's, or the imported context's own). */
  private initialContext(req: SetupRequest): { ctx: ContextVectors; note: string | null } {
    const r = this.initialVectors(req);
    const m = req.method?.name;
    if (!m || !isSuccessor(m) || r.ctx.extras?.length) return r;
    const { D, E, L } = this.requireEngine().weights.config;
    return { ...r, ctx: withSuccessorExtras(r.ctx, m, { D, E, L, K: req.nClasses }, req.settings.seed) };
  }

  private initialVectors(req: SetupRequest): { ctx: ContextVectors; note: string | null } {
    const engine = this.requireEngine();
    const { settings, nClasses } = req;
    const { D, V } = engine.weights.config;
    if (req.context) {
      const c = req.context;
      if (c.dim !== D) throw new Error(`the context has width ${c.dim}, the text encoder ${D}`);
      if (c.cscClasses !== 0 && c.cscClasses !== nClasses) throw new Error(`the context has ${c.cscClasses} class-specific sets for ${nClasses} classes`);
      return { ctx: cloneContext(c), note: null };
    }
    if (settings.init === 'words') {
      const ids = req.initWordIds ?? [];
      if (ids.length === 0) throw new Error(`the init words "${settings.initWords}" give no tokens`);
      const table = engine.weights.tokenEmbedding;
      const res = wordContext({
        ids,
        tokenEmbedding: (id) => {
          if (!(id >= 0 && id < V)) throw new Error(`init word token ${id} is outside the vocabulary`);
          return Float32Array.from(table.subarray(id * D, (id + 1) * D));
        },
        csc: settings.csc,
        nClasses,
      });
      return { ctx: res.ctx, note: res.note ?? null };
    }
    return { ctx: randomContext({ nCtx: settings.nCtx, dim: D, csc: settings.csc, nClasses, seed: settings.seed }), note: null };
  }

  private async setup(req: SetupRequest): Promise<void> {
    const engine = this.requireEngine();
    if (this.running) throw new Error('stop training before changing the setup');
    const { ctx, note } = this.initialContext(req);
    const T = req.prompts.contextLength;
    const K = req.nClasses;
    if (req.prompts.ids.length !== K * T) throw new Error(`prompt ids hold ${req.prompts.ids.length} values for ${K} classes × ${T}`);
    const specOf = (p: SetupRequest['prompts']): PromptSpec => ({
      tokenIds: Array.from({ length: p.nameLens.length }, (_, k) => p.ids.subarray(k * T, (k + 1) * T)),
      nameLens: p.nameLens,
      nCtx: ctx.nCtx,
      csc: ctx.cscClasses > 0,
      position: req.position,
    });
    this.promptSpec = specOf(req.prompts);
    this.newSpec = null;
    if (req.baseToNew) {
      if (ctx.cscClasses > 0) throw new Error('class-specific context has no context for new classes: base-to-new needs a unified context');
      if (req.baseToNew.split.base.length !== K) throw new Error(`base-to-new: ${req.baseToNew.split.base.length} base classes, but ${K} prompts`);
      this.newSpec = specOf(req.baseToNew.newPrompts);
    }
    engine.setPrompts(this.promptSpec);
    const dim = engine.weights.config.E;
    this.learner = this.makeLearner(req, ctx);
    this.setupReq = req;
    this.trainer = null;
    this.fixed = null;
    if (req.evalOnly || req.labels.length === 0) {
      this.fixed = ctx;
      this.post({ type: 'setup-done', nCtx: ctx.nCtx, csc: ctx.cscClasses > 0, maxEpochs: 0, stepsPerEpoch: 0, note });
      await this.sendSnapshot();
      return;
    }
    this.trainer = new CoopTrainer({
      settings: { ...req.settings, nCtx: ctx.nCtx, csc: ctx.cscClasses > 0 },
      data: {
        viewFeatures: req.viewFeatures,
        nImages: req.labels.length,
        nViews: req.nViews,
        dim,
        labels: req.labels,
        nClasses: K,
      },
      initialContext: ctx,
      // The method changes the loss and gradient, never the loop.
      lossAndGrad: this.learner.lossAndGrad,
      evaluate: (c) => this.evaluate(c),
    });
    if (req.resume) this.trainer.restore(req.resume);
    this.post({
      type: 'setup-done',
      nCtx: ctx.nCtx,
      csc: ctx.cscClasses > 0,
      maxEpochs: this.trainer.maxEpochs,
      stepsPerEpoch: this.trainer.stepsPerEpoch,
      note,
    });
    await this.sendSnapshot();
  }

  /**
   * The method's learner on this engine: every call goes through requireEngine(), not a captured engine, so after a
   * device loss a new engine takes over mid-run.
   */
  private makeLearner(req: SetupRequest, ctx: ContextVectors): PromptLearner {
    const engine = () => this.requireEngine();
    const { D, E, L } = engine().weights.config;
    const K = req.nClasses;
    const m = req.method;
    const logitScale = this.initReq?.logitScale ?? 100;
    const cfg: LearnerConfig = m ? methodLearnerConfig(m.name, m.settings, m.handWritten, logitScale, { D, E, L, K }) : { method: 'coop' };
    if (isSuccessor(cfg.method) && ctx.cscClasses > 0) throw new Error(`${METHOD_LABELS[cfg.method]} learns one shared context: turn class-specific context off`);
    return promptLearner(cfg, {
      step: (c, features, labels, textGrad, secondGrad) => engine().step(c.data, features, labels, textGrad, secondGrad),
      tower: (input) => engine().towerStep(input),
      textFeatures: (c) => engine().textFeatures(c),
    });
  }

  private pendingEval: Omit<Snapshot, 'epoch' | 'step' | 'context' | 'checkpoint'> | null = null;

  private async scoreAll(ctx: ContextVectors) {
    const engine = this.requireEngine();
    const req = this.setupReq!;
    const learner = this.learner!;
    const dim = engine.weights.config.E;
    const scorer = await learner.scorer(ctx, { which: 'base', nClasses: req.nClasses, handWritten: req.method?.handWritten });
    const predict = async (f: Float32Array, n: number, sc: ClassScorer, K: number) => argmaxRows(await sc.logits(f), n, K);
    const b2n = req.baseToNew;
    const sets: EvalSet[] = [{ name: 'train', features: req.trainFeatures, labels: req.labels }, ...(b2n ? [] : req.evalSets)];
    const predictions: Record<string, Int32Array> = {};
    const accuracies: Record<string, number> = {};
    for (const s of sets) {
      if (s.labels.length === 0) continue;
      predictions[s.name] = await predict(s.features, s.labels.length, scorer, req.nClasses);
      accuracies[s.name] = accuracy(predictions[s.name], s.labels);
    }
    if (b2n && this.newSpec) {
      const parts = baseToNewParts(req.evalSets, b2n.split, dim, true);
      for (const p of parts.filter((x) => x.part === 'base')) predictions[p.key] = await predict(p.sub.features, p.sub.labels.length, scorer, req.nClasses);
      // The learned context (and a successor's other tensors) with the new classes' names: scored while they are
      // the engine's prompts (CoCoOp runs its per-image prompts per call).
      const nNew = b2n.split.new.length;
      engine.setPrompts(this.newSpec);
      try {
        const newScorer = await learner.scorer(ctx, { which: 'new', nClasses: nNew, handWritten: req.method?.handWrittenNew ?? null });
        for (const p of parts.filter((x) => x.part === 'new')) predictions[p.key] = await predict(p.sub.features, p.sub.labels.length, newScorer, nNew);
      } finally {
        engine.setPrompts(this.promptSpec!);
      }
      for (const p of parts) accuracies[p.key] = accuracy(predictions[p.key], p.sub.labels);
    }
    return { textFeatures: scorer.textFeatures, predictions, accuracies };
  }

  private async evaluate(ctx: ContextVectors): Promise<EvalResult> {
    const scored = await this.scoreAll(ctx);
    this.pendingEval = scored;
    const { train, test, ...rest } = scored.accuracies;
    return { trainAcc: train ?? NaN, testAcc: test, ...rest };
  }

  private async sendSnapshot(): Promise<void> {
    if (!this.setupReq) return;
    const context = this.trainer?.context ?? (this.fixed ? cloneContext(this.fixed) : null);
    if (!context) return;
    let scored: Omit<Snapshot, 'epoch' | 'step' | 'context' | 'checkpoint'>;
    try {
      scored = this.pendingEval ?? (await this.scoreAll(context));
    } catch {
      // The engine cannot score (its device is gone): the context alone still reaches the page.
      scored = { textFeatures: new Float32Array(0), predictions: {}, accuracies: {} };
    }
    this.pendingEval = null;
    const pos = this.trainer?.position ?? { epoch: 0, step: 0 };
    const snapshot: Snapshot = { context, ...scored, epoch: pos.epoch, step: pos.step, checkpoint: this.trainer?.checkpoint() ?? null, gpuMemory: this.engine?.gpuMemory?.() ?? null };
    this.lastSnapshot = snapshot;
    this.post({ type: 'snapshot', snapshot });
  }

  private async train(): Promise<void> {
    const trainer = this.trainer;
    if (!trainer) throw new Error(this.fixed ? 'this setup only evaluates a prompt: set up training first' : 'nothing to train: set up the classes first');
    if (this.running) return;
    if (this.engineLost && this.initReq) {
      this.engine?.dispose();
      this.engine = null;
      this.engine = await this.createEngine(this.initReq, (message) => this.deviceLost(message));
      this.engineLost = false;
      if (this.promptSpec) this.engine.setPrompts(this.promptSpec);
      this.post({ type: 'ready', engine: this.engine.kind, detail: this.engine.detail, choice: this.engine.choice, threads: this.engine.threads });
    }
    this.running = true;
    try {
      for await (const event of trainer.run()) {
        this.post({ type: 'event', event });
        await nextTask();
        // An epoch's evaluation already scored this exact context, so the snapshot reuses it.
        if (event.type === 'epoch') await this.sendSnapshot();
        else if (event.type === 'stopped' || event.type === 'done' || event.type === 'error') {
          this.pendingEval = null;
          await this.sendSnapshot();
        }
      }
    } catch (e) {
      // An engine failure mid-step (device lost, out of memory): the trainer's context is the last updated one.
      // A lost device is reported once, by deviceLost() with what to do next, not as the failed call's own error.
      if (!(await this.engine?.isLost?.())) this.post({ type: 'error', during: 'train', message: errorMessage(e) });
      this.pendingEval = null;
      await this.sendSnapshot();
    } finally {
      this.running = false;
    }
  }

  private nearest(k: number): void {
    const engine = this.requireEngine();
    const ctx = this.trainer?.context ?? this.fixed;
    if (!ctx) throw new Error('no learned context yet');
    const raw = engine.weights.tokenEmbedding;
    const table = raw instanceof Float32Array ? raw : Float32Array.from(raw);
    const lists = nearestTokens(ctx, table, (id) => String(id), k);
    const sets = lists.length;
    const kk = lists[0]?.[0]?.length ?? 0;
    const ids = new Int32Array(sets * ctx.nCtx * kk);
    const distances = new Float32Array(sets * ctx.nCtx * kk);
    lists.forEach((perSet, s) =>
      perSet.forEach((nbrs, m) =>
        nbrs.forEach((n, j) => {
          ids[(s * ctx.nCtx + m) * kk + j] = n.id;
          distances[(s * ctx.nCtx + m) * kk + j] = n.distance;
        }),
      ),
    );
    const blocks = nearestDeepTokens(ctx, table, (id) => String(id), k).map((b) => ({
      block: b.block,
      nCtx: b.lists.length,
      ids: Int32Array.from(b.lists.flatMap((nbrs) => nbrs.map((n) => n.id))),
      distances: Float32Array.from(b.lists.flatMap((nbrs) => nbrs.map((n) => n.distance))),
    }));
    this.post({ type: 'nearest', sets, nCtx: ctx.nCtx, k: kk, ids, distances, ...(blocks.length ? { blocks } : {}) });
  }

  /** Tip-Adapter(-F) on the set-up training views: image features only, seconds. */
  private adapter(req: Extract<WorkerRequest, { type: 'adapter' }>): void {
    const s = this.setupReq;
    if (!s || s.labels.length === 0) throw new Error('nothing to fit: set up the classes first');
    const t0 = performance.now();
    const dim = s.trainFeatures.length / s.labels.length;
    const scale = Math.min(this.initReq?.logitScale ?? 100, 100);
    const cache = buildTipCache(s.viewFeatures, s.labels.length, s.nViews, dim, s.labels, s.nClasses, scale);
    // Base-to-new: the cache knows only the base classes, so each set's base-class images are scored among them
    // (the page adds the zero-shot fallback on new classes).
    const evalSets = s.baseToNew ? s.evalSets.map((e) => ({ ...subsetClasses(e, s.baseToNew!.split.base, dim), name: baseKey(e.name) })) : s.evalSets;
    const sets: EvalSet[] = [{ name: 'train', features: s.trainFeatures, labels: s.labels }, ...evalSets].filter((x) => x.labels.length);
    const score = (p: TipParams, keys: Float32Array) =>
      Object.fromEntries(sets.map((x) => [x.name, accuracy(argmaxRows(tipLogits(x.features, cache, req.zeroShotText, p, keys), x.labels.length, s.nClasses), x.labels)]));
    let params: TipParams = { alpha: TIP_ADAPTER_DEFAULTS.alpha, beta: TIP_ADAPTER_DEFAULTS.beta };
    let keys = cache.keys;
    const epochs: AdapterResult['epochs'] = [];
    if (req.method === 'tip-f') {
      keys = trainTipAdapterF({ cache, viewFeatures: s.viewFeatures, nViews: s.nViews, zsText: req.zeroShotText, params, seed: s.settings.seed }, (e) =>
        epochs.push({ epoch: e.epoch, loss: e.loss, accuracies: score(params, e.keys) }),
      );
    }
    const val = evalSets.find((x) => (x.name === 'val' || x.name === baseKey('val')) && x.labels.length);
    if (val) params = searchTipParams(val.features, val.labels, cache, req.zeroShotText, { keys });
    this.post({ type: 'adapter', result: { method: req.method, accuracies: score(params, keys), epochs, alpha: params.alpha, beta: params.beta, searched: !!val, ms: performance.now() - t0 } });
  }

  private linearProbe(req: Extract<WorkerRequest, { type: 'linear-probe' }>): void {
    const dim = req.features.length / Math.max(1, req.labels.length);
    const res = linearProbe(req.features, req.labels, dim, req.nClasses);
    const accuracies: Record<string, number> = { train: accuracy(probePredict(res.model, req.features), req.labels) };
    for (const s of req.evalSets) if (s.labels.length) accuracies[s.name] = accuracy(probePredict(res.model, s.features), s.labels);
    this.post({ type: 'linear-probe', accuracies, lambda: res.model.lambda });
  }
}
