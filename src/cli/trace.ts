/**
 * Trajectory parity: runs OUR trainer (src/coop/trainer.ts, sgd.ts, schedule.ts) with our text engine over exactly
 * the batches a case gives, and returns the loss and lr of every step and the context after every epoch, for
 * comparison with PyTorch's run of the same case (tools/coop-trace/trace.py).
 *
 * A case: {classnames, n_ctx, csc, position, ctx (initial, flat), image_features (N rows, normalized), labels,
 * epochs: [[[row indices of a batch], …] per epoch], optim: {lr, momentum, weight_decay, warmup_epochs, warmup_lr,
 * max_epoch}[, logit_scale]}.
 */
import type { ContextVectors } from '../coop/context-init';
import type { Batch } from '../coop/sampler';
import { withDefaults } from '../coop/settings';
import { CoopTrainer } from '../coop/trainer';
import type { ClassTokenPosition } from '../engine/prompt';
import { CpuTextEngine } from '../worker/cpu-text-engine';
import type { TextEngineLike } from '../worker/text-engine';
import { promptSpec, type Loaded } from './common';

/** What a CoOp case file holds for one step (`coop:grad`) and, with epochs and optimizer, for a trace. */
export interface CoopCase {
  classnames: string[];
  n_ctx: number;
  csc: boolean;
  position: ClassTokenPosition;
  ctx: number[];
  image_features: number[][];
  labels: number[];
  logit_scale?: number;
}

export interface TraceCase extends CoopCase {
  epochs: number[][][];
  optim: { lr: number; momentum: number; weight_decay: number; warmup_epochs: number; warmup_lr: number; max_epoch: number };
}

export interface Trace {
  loss: number[];
  lr: number[];
  ctx: number[][];
}

export function checkCase(c: unknown, file: string): TraceCase {
  const o = c as Record<string, unknown>;
  const fail = (m: string): never => {
    throw new Error(`case ${file}: ${m}`);
  };
  if (typeof o !== 'object' || o === null) fail('must hold a JSON object');
  for (const k of ['classnames', 'n_ctx', 'csc', 'position', 'ctx', 'image_features', 'labels', 'epochs', 'optim']) if (o[k] === undefined) fail(`has no '${k}'`);
  const t = o as unknown as TraceCase;
  if (!Array.isArray(t.classnames) || !t.classnames.length) fail("'classnames' must be a non-empty list");
  const n = t.image_features.length;
  if (t.labels.length !== n) fail(`${t.labels.length} labels for ${n} image feature rows`);
  t.labels.forEach((y, i) => (Number.isInteger(y) && y >= 0 && y < t.classnames.length) || fail(`label ${y} of row ${i} is not a class index`));
  t.epochs.forEach((e, ei) => e.forEach((b, bi) => b.forEach((r) => (Number.isInteger(r) && r >= 0 && r < n) || fail(`epoch ${ei} batch ${bi} names row ${r}, outside 0..${n - 1}`))));
  for (const k of ['lr', 'momentum', 'weight_decay', 'warmup_epochs', 'warmup_lr', 'max_epoch'] as const) if (typeof t.optim[k] !== 'number') fail(`optim.${k} must be a number`);
  return t;
}

/** The engine a trace runs on: the CPU twin unless one is given (the WGSL engine through Dawn). */
export async function runTrace(c: TraceCase, l: Loaded, engine?: TextEngineLike): Promise<Trace> {
  const { D, E } = l.weights.config;
  const K = c.classnames.length;
  const logitScale = c.logit_scale ?? l.model.manifest.logit_scale;
  const eng = engine ?? new CpuTextEngine({ weights: l.weights, logitScale });
  const sets = c.csc ? K : 1;
  if (c.ctx.length !== sets * c.n_ctx * D) throw new Error(`the case's ctx has ${c.ctx.length} values, expected ${sets}×${c.n_ctx}×${D}`);
  const ctx: ContextVectors = { data: Float32Array.from(c.ctx), nCtx: c.n_ctx, dim: D, cscClasses: c.csc ? K : 0 };
  eng.setPrompts(promptSpec(l, c.classnames, c.n_ctx, c.csc, c.position));
  const N = c.image_features.length;
  const features = new Float32Array(N * E);
  c.image_features.forEach((row, i) => {
    if (row.length !== E) throw new Error(`image feature row ${i} has ${row.length} values, the model's embed dim is ${E}`);
    features.set(row, i * E);
  });
  const plans: Batch[][] = c.epochs.map((e) => e.map((b) => ({ images: Int32Array.from(b), views: new Int32Array(b.length) })));
  const settings = withDefaults({
    nCtx: c.n_ctx,
    csc: c.csc,
    position: c.position,
    lr: c.optim.lr,
    momentum: c.optim.momentum,
    weightDecay: c.optim.weight_decay,
    warmupEpochs: c.optim.warmup_epochs,
    warmupLr: c.optim.warmup_lr,
    epochs: c.optim.max_epoch,
    views: 1,
  });
  const out: Trace = { loss: [], lr: [], ctx: [] };
  const trainer = new CoopTrainer({
    settings,
    data: { viewFeatures: features, nImages: N, nViews: 1, dim: E, labels: c.labels, nClasses: K },
    initialContext: ctx,
    lossAndGrad: (x, f, y) => eng.step(x.data, f, y),
    evaluate: (x) => {
      out.ctx.push(Array.from(x.data));
      return { trainAcc: NaN };
    },
    plan: (e) => plans[e] ?? [],
  });
  for await (const ev of trainer.run()) {
    if (ev.type === 'step') {
      out.loss.push(ev.loss);
      out.lr.push(ev.lr);
    } else if (ev.type === 'error') throw new Error(ev.message);
    if (out.ctx.length >= plans.length) break;
  }
  if (!engine) eng.dispose();
  return out;
}

/** Max abs and max relative error of each epoch's context against a reference, and of the update from the start. */
export function compareTrajectories(ours: number[][], ref: number[][], init: number[]) {
  return ref.map((r, e) => {
    const o = ours[e] ?? [];
    let maxAbs = 0;
    let maxRef = 0;
    let maxMove = 0;
    for (let i = 0; i < r.length; i++) {
      maxAbs = Math.max(maxAbs, Math.abs((o[i] ?? NaN) - r[i]) || (Number.isNaN(o[i]) ? Infinity : 0));
      maxRef = Math.max(maxRef, Math.abs(r[i]));
      maxMove = Math.max(maxMove, Math.abs(r[i] - init[i]));
    }
    return { epoch: e + 1, maxAbs, relToCtx: maxAbs / maxRef, relToUpdate: maxAbs / maxMove };
  });
}
