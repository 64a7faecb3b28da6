/**
 * The pieces the feature-only adapters (CLAP, TaskRes, CLIP-Adapter, LP++) share: CLIP's cosine classifier
 * s · (f/‖f‖)·(w/‖w‖)ᵀ with its backward, mean softmax cross-entropy, torch.optim.SGD/Adam updates in doubles, and
 * Dassl's per-epoch schedule (constant warm-up, then cosine) and batch count. Arithmetic is in doubles; inputs and
 * outputs are plain arrays so each method's module stays a short statement of its paper's formulas.
 */
import { createRng, deriveSeed, permutation } from './random';
import { batchesPerEpoch, gatherBatch, type Batch } from './sampler';
import { lrAtEpoch } from './schedule';
import type { TrainSettings } from './settings';
import type { TrainingSet } from './trainer';

/** Rows of X [n, E] divided by their norms; the norms are kept for the backward. */
export function normalizeRows(x: ArrayLike<number>, n: number, E: number): { y: Float64Array; norms: Float64Array } {
  const y = new Float64Array(n * E);
  const norms = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let ss = 0;
    for (let e = 0; e < E; e++) ss += x[r * E + e] * x[r * E + e];
    const nr = Math.sqrt(ss);
    norms[r] = nr;
    const inv = nr > 0 ? 1 / nr : 0;
    for (let e = 0; e < E; e++) y[r * E + e] = x[r * E + e] * inv;
  }
  return { y, norms };
}

/** d/dx of y = x/‖x‖ per row: (dy − y (y·dy)) / ‖x‖. */
export function normalizeRowsBackward(dy: ArrayLike<number>, y: ArrayLike<number>, norms: ArrayLike<number>, E: number): Float64Array {
  const n = norms.length;
  const dx = new Float64Array(n * E);
  for (let r = 0; r < n; r++) {
    let dot = 0;
    for (let e = 0; e < E; e++) dot += y[r * E + e] * dy[r * E + e];
    const inv = norms[r] > 0 ? 1 / norms[r] : 0;
    for (let e = 0; e < E; e++) dx[r * E + e] = (dy[r * E + e] - y[r * E + e] * dot) * inv;
  }
  return dx;
}

/** A [n, E] · B [m, E]ᵀ → [n, m]. */
export function matmulT(a: ArrayLike<number>, b: ArrayLike<number>, n: number, m: number, E: number): Float64Array {
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let e = 0; e < E; e++) s += a[i * E + e] * b[j * E + e];
      out[i * m + j] = s;
    }
  return out;
}

/** A [n, m]ᵀ · B [n, E] → [m, E] (the weight gradient of a linear map from dlogits and inputs). */
export function matmulTN(a: ArrayLike<number>, b: ArrayLike<number>, n: number, m: number, E: number): Float64Array {
  const out = new Float64Array(m * E);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < m; j++) {
      const s = a[i * m + j];
      if (s === 0) continue;
      for (let e = 0; e < E; e++) out[j * E + e] += s * b[i * E + e];
    }
  return out;
}

/** Mean softmax cross-entropy over the rows of logits [B, C] and its gradient, as F.cross_entropy. */
export function crossEntropy(logits: ArrayLike<number>, labels: ArrayLike<number>, C: number): { loss: number; dlogits: Float64Array; correct: number } {
  const B = labels.length;
  const d = new Float64Array(B * C);
  let loss = 0;
  let correct = 0;
  for (let b = 0; b < B; b++) {
    let mx = -Infinity;
    let arg = 0;
    for (let c = 0; c < C; c++) if (logits[b * C + c] > mx) { mx = logits[b * C + c]; arg = c; }
    if (arg === labels[b]) correct++;
    let s = 0;
    for (let c = 0; c < C; c++) s += Math.exp(logits[b * C + c] - mx);
    const lse = mx + Math.log(s);
    loss += lse - logits[b * C + labels[b]];
    for (let c = 0; c < C; c++) d[b * C + c] = Math.exp(logits[b * C + c] - lse) / B;
    d[b * C + labels[b]] -= 1 / B;
  }
  return { loss: loss / B, dlogits: d, correct };
}

/** torch.optim.SGD (momentum, L2 weight decay, no dampening) in place; `buf` null before the first step. */
export class Sgd {
  private buf: Float64Array | null = null;
  constructor(readonly momentum: number, readonly weightDecay = 0) {}
  step(p: Float64Array, g: ArrayLike<number>, lr: number): void {
    const first = this.buf === null;
    if (first) this.buf = new Float64Array(p.length);
    const buf = this.buf!;
    for (let i = 0; i < p.length; i++) {
      const d = g[i] + this.weightDecay * p[i];
      buf[i] = first || this.momentum === 0 ? d : this.momentum * buf[i] + d;
      p[i] -= lr * buf[i];
    }
  }
}

/** torch.optim.Adam (L2 weight decay added to the gradient, as Dassl's 'adam') in place. */
export class Adam {
  private m: Float64Array | null = null;
  private v: Float64Array | null = null;
  private t = 0;
  constructor(readonly weightDecay = 0, readonly betas: readonly [number, number] = [0.9, 0.999], readonly eps = 1e-8) {}
  step(p: Float64Array, g: ArrayLike<number>, lr: number): void {
    if (!this.m) { this.m = new Float64Array(p.length); this.v = new Float64Array(p.length); }
    const m = this.m;
    const v = this.v!;
    const [b1, b2] = this.betas;
    this.t++;
    const bc1 = 1 - b1 ** this.t;
    const bc2 = 1 - b2 ** this.t;
    for (let i = 0; i < p.length; i++) {
      const d = g[i] + this.weightDecay * p[i];
      m[i] = b1 * m[i] + (1 - b1) * d;
      v[i] = b2 * v[i] + (1 - b2) * d * d;
      p[i] -= ((lr / bc1) * m[i]) / (Math.sqrt(v[i]) / Math.sqrt(bc2) + this.eps);
    }
  }
}

/**
 * Dassl's epoch loop over minibatches of cached view features, which CLAP, TaskRes and CLIP-Adapter share: the
 * epoch's lr (constant warm-up, then cosine stepped per epoch: src/coop/schedule.ts, the schedule CoOp trains with),
 * every batch of `plan(epoch)` gathered and handed to `step` (which computes the method's loss and gradient and
 * updates its parameters), and the epoch's report.
 */
export function* minibatchEpochs(
  data: TrainingSet,
  o: { epochs: number; schedule: Pick<TrainSettings, 'lr' | 'warmupEpochs' | 'warmupLr'>; plan: (epoch: number) => Batch[] },
  step: (features: Float32Array, labels: Int32Array, lr: number) => { loss: number; correct: number },
): Generator<AdapterEpoch, void, void> {
  const { epochs } = o;
  for (let epoch = 0; epoch < epochs; epoch++) {
    const lr = lrAtEpoch(epoch, epochs, o.schedule);
    const losses: number[] = [];
    let correct = 0;
    let seen = 0;
    for (const batch of o.plan(epoch)) {
      const { features, labels: y } = gatherBatch(batch, data.viewFeatures, data.nViews, data.dim, data.labels);
      const r = step(features, y, lr);
      losses.push(r.loss);
      correct += r.correct;
      seen += y.length;
    }
    yield { epoch: epoch + 1, epochs, loss: mean(losses), losses, trainAcc: seen ? correct / seen : NaN, lr };
  }
}

/**
 * CLAP's epoch (its TrainerXCostume.run_epoch): every cached view of every support image is one sample; an epoch
 * shuffles them and takes as many batches as the image loader would have (Dassl's drop_last count over the
 * images), so about N samples an epoch.
 */
export function pooledViewsPlan(nImages: number, nViews: number, batchSize: number, seed: number, epoch: number, stream: number): Batch[] {
  const total = nImages * nViews;
  const rng = createRng(deriveSeed(seed, stream, epoch));
  const order = permutation(total, rng);
  const nb = batchesPerEpoch(nImages, batchSize);
  const size = Math.min(batchSize, total);
  const out: Batch[] = [];
  for (let b = 0; b < nb && b * size < total; b++) {
    const slice = order.subarray(b * size, Math.min(total, (b + 1) * size));
    out.push({ images: Int32Array.from(slice, (k) => Math.floor(k / nViews)), views: Int32Array.from(slice, (k) => k % nViews) });
  }
  return out;
}

/** One epoch's report, shared by the iterative adapters. */
export interface AdapterEpoch {
  /** 1-based. */
  epoch: number;
  epochs: number;
  loss: number;
  losses: number[];
  trainAcc: number;
  lr: number;
}

/** Uniform(−1/√fanIn, 1/√fanIn), as nn.Linear's default initialisation bounds its weights and bias. */
export function linearInit(n: number, fanIn: number, seed: number, stream: number): Float64Array {
  const rng = createRng(deriveSeed(seed, stream));
  const bound = 1 / Math.sqrt(fanIn);
  return Float64Array.from({ length: n }, () => (2 * rng.next() - 1) * bound);
}

export function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

/** Runs a training generator to its end, reporting each epoch. */
export function drain<T, R>(it: Generator<T, R, void>, onEpoch?: (e: T) => void): R {
  for (;;) {
    const r = it.next();
    if (r.done) return r.value;
    onEpoch?.(r.value);
  }
}
