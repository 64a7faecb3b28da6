import { describe, expect, it } from 'vitest';
import { clapLogits, clapLossAndGrad, clapMultipliers, trainClap } from '../../src/coop/clap';
import { clipAdapterLogits, clipAdapterLossAndGrad, trainClipAdapter } from '../../src/coop/clip-adapter';
import { normalizeRows } from '../../src/coop/cosine-head';
import { largestEigenvalue, lpPlusPlus, lpPlusPlusLogits } from '../../src/coop/lp-plus-plus';
import { taskResLogits, taskResLossAndGrad, trainTaskRes } from '../../src/coop/taskres';
import type { Batch } from '../../src/coop/sampler';
import { relErr } from '../helpers/compare';
import { loadFixture } from '../helpers/fixture';

// tools/toy-clip/adapter_dumps.py: 4 classes × 3 shots × 5 views, E = 32, the official formulas in PyTorch (float64).
const fx = loadFixture('methods/adapters.bin');
const [N, V, E] = fx.shape('view_features');
const C = fx.meta.n_classes as number;
const views = fx.f32('view_features');
const labels = fx.i32('labels');
const text = fx.f32('text');
const epochs = fx.meta.epochs as number;

/** The dumped batches, step by step, as an epoch plan. */
function replay(prefix: string): (epoch: number) => Batch[] {
  const imgs = fx.i32(`${prefix}_plan_images`);
  const vs = fx.i32(`${prefix}_plan_views`);
  const [steps, B] = fx.shape(`${prefix}_plan_images`);
  const per = steps / epochs;
  return (epoch) =>
    Array.from({ length: per }, (_, j) => {
      const s = epoch * per + j;
      return { images: imgs.subarray(s * B, (s + 1) * B), views: vs.subarray(s * B, (s + 1) * B) };
    });
}

/** The labels of the first step's batch. */
function firstLabels(prefix: string): Int32Array {
  return Int32Array.from(replay(prefix)(0)[0].images, (i) => labels[i]);
}

/** The batch of the first step, gathered. */
function firstBatch(prefix: string): Float32Array {
  const b = replay(prefix)(0)[0];
  const out = new Float32Array(b.images.length * E);
  b.images.forEach((img, r) => out.set(views.subarray((img * V + b.views[r]) * E, (img * V + b.views[r] + 1) * E), r * E));
  return out;
}

function log(name: string, errs: Record<string, number>): void {
  console.log(`[tol] ${name} ${Object.entries(errs).map(([k, v]) => `${k} ${v.toExponential(2)}`).join(', ')}`);
}

describe('the feature-only baselines vs PyTorch (official formulas)', () => {
  it('CLAP: multipliers, logits, the first step and four epochs of SGD', () => {
    const viewLabels = Int32Array.from({ length: N * V }, (_, k) => labels[Math.floor(k / V)]);
    const lambda = clapMultipliers(views, viewLabels, text, E, C);
    const logits0 = clapLogits(firstBatch('clap'), text, E);
    const steps: number[] = [];
    let w1: Float32Array | null = null;
    const plan = replay('clap');
    const model = trainClap({ viewFeatures: views, nImages: N, nViews: V, dim: E, labels, nClasses: C, anchors: text, epochs, lr: fx.meta.clap_lr as number, plan }, (e) => steps.push(...e.losses));
    // One step's update: the same run cut to its first batch.
    w1 = trainClap({ viewFeatures: views, nImages: N, nViews: V, dim: E, labels, nClasses: C, anchors: text, epochs, lr: fx.meta.clap_lr as number, plan: (e) => (e === 0 ? plan(0).slice(0, 1) : []) }).weights;
    const errs = {
      lambda: relErr(lambda, fx.f32('clap_lambda')),
      grad: relErr(clapLossAndGrad(text, firstBatch('clap'), firstLabels('clap'), text, lambda, E).grad, fx.f32('clap_grad0')),
      logits: relErr(logits0, fx.f32('clap_logits0')),
      step1: relErr(w1, fx.f32('clap_w1')),
      losses: relErr(steps, fx.f32('clap_losses')),
      weights: relErr(model.weights, fx.f32('clap_weights')),
    };
    log('clap', errs);
    expect(errs.lambda).toBeLessThan(1e-6);
    expect(errs.grad).toBeLessThan(1e-5);
    expect(errs.logits).toBeLessThan(1e-6);
    expect(errs.step1).toBeLessThan(1e-6);
    expect(errs.losses).toBeLessThan(1e-5);
    expect(errs.weights).toBeLessThan(1e-5);
    // The update is not a no-op: the weights moved from the anchors.
    expect(relErr(model.weights, text)).toBeGreaterThan(1e-2);
  });

  it('TaskRes: logits, the first Adam step and four epochs', () => {
    const alpha = fx.meta.taskres_alpha as number;
    const plan = replay('taskres');
    const base = { viewFeatures: views, nImages: N, nViews: V, dim: E, labels, nClasses: C, text, alpha, epochs, lr: fx.meta.taskres_lr as number };
    const steps: number[] = [];
    const model = trainTaskRes({ ...base, plan }, (e) => steps.push(...e.losses));
    const x1 = trainTaskRes({ ...base, plan: (e) => (e === 0 ? plan(0).slice(0, 1) : []) }).residual;
    const errs = {
      logits: relErr(taskResLogits(firstBatch('taskres'), text, new Float32Array(C * E), alpha, E), fx.f32('taskres_logits0')),
      grad: relErr(taskResLossAndGrad(new Float32Array(C * E), firstBatch('taskres'), firstLabels('taskres'), text, alpha, E).grad, fx.f32('taskres_grad0')),
      step1: relErr(x1, fx.f32('taskres_x1')),
      losses: relErr(steps, fx.f32('taskres_losses')),
      residual: relErr(model.residual, fx.f32('taskres_residual')),
    };
    log('taskres', errs);
    for (const [k, v] of Object.entries(errs)) expect(v, k).toBeLessThan(1e-5);
  });

  it('CLIP-Adapter: logits, the first step and four epochs of SGD on both layers', () => {
    const init = { w1: fx.f32('ca_w1_init'), w2: fx.f32('ca_w2_init'), hidden: E / 4 };
    const plan = replay('ca');
    const base = { viewFeatures: views, nImages: N, nViews: V, dim: E, labels, nClasses: C, text, epochs, lr: fx.meta.ca_lr as number, init };
    const steps: number[] = [];
    const model = trainClipAdapter({ ...base, plan }, (e) => steps.push(...e.losses));
    const g = clipAdapterLossAndGrad(init.w1, init.w2, E / 4, firstBatch('ca'), firstLabels('ca'), normalizeRows(text, C, E).y, E, 0.2, 100);
    const errs = {
      gradW1: relErr(g.gW1, fx.f32('ca_grad_w1')),
      gradW2: relErr(g.gW2, fx.f32('ca_grad_w2')),
      logits: relErr(clipAdapterLogits(firstBatch('ca'), text, { ...init, ratio: 0.2, scale: 100 }, E), fx.f32('ca_logits0')),
      losses: relErr(steps, fx.f32('ca_losses')),
      w1: relErr(model.w1, fx.f32('ca_w1')),
      w2: relErr(model.w2, fx.f32('ca_w2')),
    };
    log('clip-adapter', errs);
    for (const [k, v] of Object.entries(errs)) expect(v, k).toBeLessThan(1e-5);
    expect(relErr(model.w1, init.w1)).toBeGreaterThan(1e-2);
  });

  it('LP++: data-driven step sizes and α₀, the first step, 30 epochs with α steps, the validation-picked epoch', () => {
    const feats = new Float32Array(N * E);
    for (let i = 0; i < N; i++) feats.set(views.subarray(i * V * E, i * V * E + E), i * E);
    const tn = new Float32Array(C * E);
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let e = 0; e < E; e++) s += text[c * E + e] ** 2;
      for (let e = 0; e < E; e++) tn[c * E + e] = text[c * E + e] / Math.sqrt(s);
    }
    const ep = fx.meta.lpp_epochs as number;
    for (const [prefix, key, val] of [
      ['lpp_', 'lpp', { features: fx.f32('val_features'), labels: fx.i32('val_labels') }],
      ['lpp_last_', 'lpp_last', null],
    ] as const) {
      const meta = fx.meta[key] as { alpha0: number; lr_w: number; lr_alpha: number; epoch: number; val_acc: number | null };
      const common = { features: feats, labels, text: tn, dim: E, nClasses: C, bias: fx.f32(`${prefix}bias0`) };
      const r = lpPlusPlus({ ...common, epochs: ep, val });
      const one = lpPlusPlus({ ...common, epochs: 1 });
      const start = lpPlusPlusLogits(feats, tn, { weights: Float32Array.from(r.setup.weights), bias: fx.f32(`${prefix}bias0`), alpha: new Float32Array(C).fill(r.setup.alpha0) }, E);
      const errs = {
        alpha0: Math.abs(r.setup.alpha0 - meta.alpha0) / meta.alpha0,
        lrW: Math.abs(r.setup.lrW - meta.lr_w) / meta.lr_w,
        lrAlpha: Math.abs(r.setup.lrAlpha - meta.lr_alpha) / meta.lr_alpha,
        logits: relErr(start, fx.f32(`${prefix}logits0`)),
        step1: relErr(one.model.weights, fx.f32(`${prefix}w1`)),
        losses: relErr(r.losses, fx.f32(`${prefix}losses`)),
        weights: relErr(r.model.weights, fx.f32(`${prefix}weights`)),
        bias: relErr(r.model.bias, fx.f32(`${prefix}bias`)),
        alpha: relErr(r.model.alpha, fx.f32(`${prefix}alpha`)),
      };
      log(key, errs);
      for (const [k, v] of Object.entries(errs)) expect(v, `${key} ${k}`).toBeLessThan(1e-5);
      expect(r.epoch).toBe(meta.epoch);
      expect(r.selectedBy).toBe(val ? 'validation' : 'last epoch');
      if (val) expect(r.valAcc! * 100).toBeCloseTo(meta.val_acc!, 6);
    }
  });

  it('λ_max by power iteration matches a known spectrum', () => {
    // F = diag(3, 2, 1) padded to 4 rows: FᵀF has eigenvalues 9, 4, 1.
    const F = new Float32Array([3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0]);
    expect(largestEigenvalue(F, 4, 3)).toBeCloseTo(9, 9);
    expect(largestEigenvalue(F.subarray(0, 9), 3, 3)).toBeCloseTo(9, 9);
  });
});
