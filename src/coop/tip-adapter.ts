/**
 * Tip-Adapter and Tip-Adapter-F (Zhang et al., ECCV 2022; official code gaopengcuhk/Tip-Adapter, main.py and
 * utils.py): a training-free cache model over the few-shot images' features, beside zero-shot CLIP.
 *
 *   keys K [N, E]: each training image's features averaged over its augmented views, then L2-normalized
 *   values V [N, C]: the images' one-hot labels
 *   logits(f) = 100 · f Wᵀ + α · exp(−β (1 − f Kᵀ)) V,   W the zero-shot text features [C, E]
 *
 * α and β: the official defaults (init_alpha 1.17, init_beta 1 in its ImageNet config) or the official grid search on
 * held-out features (search_scale [7, 3], search_step [200, 20]: β, α ∈ {0.1 + i (scale − 0.1) / step}, the first
 * best kept). Tip-Adapter-F makes the keys learnable: AdamW (lr 0.001, eps 1e-4, PyTorch's default weight decay
 * 0.01 and betas), CosineAnnealingLR over epochs × batches (to 0), 20 epochs, batch 256, cross-entropy on the
 * tip logits at the default α, β, one augmented view per image per epoch (here: one of the cached views, as the
 * CoOp sampler draws them).
 *
 * Differences from the official code, on purpose: the cached views are already L2-normalized (the official code
 * averages the raw features of its 10 augmentation passes); the official Tip-Adapter-F keeps the epoch with the
 * best *test* accuracy, which peeks at the test set, so this keeps the last epoch.
 *
 * Everything here runs on cached image features alone (no text encoder pass), so both train in seconds.
 */
import { argmaxRows, accuracy } from './metrics';
import { epochPlan, gatherBatch, type Batch } from './sampler';

export const TIP_ADAPTER_DEFAULTS = Object.freeze({
  alpha: 1.17,
  beta: 1,
  searchScale: [7, 3] as readonly [number, number],
  searchStep: [200, 20] as readonly [number, number],
  /** The zero-shot logits' multiplier in the official code (CLIP's logit scale, 100). */
  zeroShotScale: 100,
});

export const TIP_ADAPTER_F_DEFAULTS = Object.freeze({
  lr: 0.001,
  eps: 1e-4,
  weightDecay: 0.01,
  betas: [0.9, 0.999] as readonly [number, number],
  epochs: 20,
  batchSize: 256,
});

export interface TipCache {
  /** [N, E], L2-normalized. */
  keys: Float32Array;
  /** Class of each key (the one-hot values, as indices). */
  labels: Int32Array;
  nClasses: number;
  dim: number;
  /** Multiplier of the zero-shot cosines: 100 in the official code, which is CLIP's logit scale. */
  zeroShotScale: number;
}

/** Keys from [N, V, E] view features (mean over views, normalized), values from the labels. */
export function buildTipCache(
  viewFeatures: Float32Array,
  nImages: number,
  nViews: number,
  dim: number,
  labels: ArrayLike<number>,
  nClasses: number,
  zeroShotScale: number = TIP_ADAPTER_DEFAULTS.zeroShotScale,
): TipCache {
  if (viewFeatures.length !== nImages * nViews * dim) throw new RangeError(`Tip-Adapter: ${viewFeatures.length} view feature values, expected ${nImages}×${nViews}×${dim}`);
  const keys = new Float32Array(nImages * dim);
  const acc = new Float64Array(dim);
  for (let i = 0; i < nImages; i++) {
    acc.fill(0);
    for (let v = 0; v < nViews; v++) for (let e = 0; e < dim; e++) acc[e] += viewFeatures[(i * nViews + v) * dim + e];
    let ss = 0;
    for (let e = 0; e < dim; e++) ss += (acc[e] / nViews) ** 2;
    const inv = ss > 0 ? 1 / (nViews * Math.sqrt(ss)) : 0;
    for (let e = 0; e < dim; e++) keys[i * dim + e] = acc[e] * inv;
  }
  const lab = Int32Array.from(labels);
  for (const y of lab) if (!(y >= 0 && y < nClasses)) throw new RangeError(`Tip-Adapter: label ${y} is not a class in 0..${nClasses - 1}`);
  return { keys, labels: lab, nClasses, dim, zeroShotScale };
}

/** f Kᵀ [B, N]. */
function affinity(features: ArrayLike<number>, keys: ArrayLike<number>, B: number, N: number, E: number): Float64Array {
  const a = new Float64Array(B * N);
  for (let b = 0; b < B; b++)
    for (let i = 0; i < N; i++) {
      let s = 0;
      for (let e = 0; e < E; e++) s += features[b * E + e] * keys[i * E + e];
      a[b * N + i] = s;
    }
  return a;
}

/** Zero-shot logits 100 · f Wᵀ [B, C] (the part α and β do not change). */
export function tipZeroShotLogits(features: ArrayLike<number>, zsText: ArrayLike<number>, E: number, scale: number = TIP_ADAPTER_DEFAULTS.zeroShotScale): Float64Array {
  const B = features.length / E;
  const C = zsText.length / E;
  return affinity(features, zsText, B, C, E).map((x) => x * scale);
}

export interface TipParams {
  alpha: number;
  beta: number;
}

/** logits = zero-shot + α · exp(−β (1 − f Kᵀ)) V, [B, C]. `keys` overrides cache.keys (Tip-Adapter-F's trained keys). */
export function tipLogits(features: ArrayLike<number>, cache: TipCache, zsText: ArrayLike<number>, p: TipParams, keys: ArrayLike<number> = cache.keys): Float32Array {
  const E = cache.dim;
  const zs = tipZeroShotLogits(features, zsText, E, cache.zeroShotScale);
  return combine(zs, affinity(features, keys, features.length / E, cache.labels.length, E), cache, p);
}

function combine(zs: Float64Array, aff: Float64Array, cache: TipCache, { alpha, beta }: TipParams): Float32Array {
  const N = cache.labels.length;
  const C = cache.nClasses;
  const B = zs.length / C;
  const out = new Float32Array(B * C);
  for (let b = 0; b < B; b++) {
    const row = new Float64Array(C);
    for (let i = 0; i < N; i++) row[cache.labels[i]] += Math.exp(-(beta - beta * aff[b * N + i]));
    for (let c = 0; c < C; c++) out[b * C + c] = zs[b * C + c] + alpha * row[c];
  }
  return out;
}

/** The official grid: β (outer) and α (inner) over {0.1 + i (scale − 0.1) / step}, the first strictly best kept. */
export function searchTipParams(
  features: ArrayLike<number>,
  labels: ArrayLike<number>,
  cache: TipCache,
  zsText: ArrayLike<number>,
  opts: { scale?: readonly [number, number]; step?: readonly [number, number]; keys?: ArrayLike<number> } = {},
): TipParams & { acc: number } {
  const [sb, sa] = opts.scale ?? TIP_ADAPTER_DEFAULTS.searchScale;
  const [nb, na] = opts.step ?? TIP_ADAPTER_DEFAULTS.searchStep;
  const E = cache.dim;
  const B = labels.length;
  const zs = tipZeroShotLogits(features, zsText, E, cache.zeroShotScale);
  const aff = affinity(features, opts.keys ?? cache.keys, B, cache.labels.length, E);
  const betas = Array.from({ length: nb }, (_, i) => (i * (sb - 0.1)) / nb + 0.1);
  const alphas = Array.from({ length: na }, (_, i) => (i * (sa - 0.1)) / na + 0.1);
  let best = { alpha: 0, beta: 0, acc: 0 };
  for (const beta of betas)
    for (const alpha of alphas) {
      const acc = accuracy(argmaxRows(combine(zs, aff, cache, { alpha, beta }), B, cache.nClasses), labels);
      if (acc > best.acc) best = { alpha, beta, acc };
    }
  return best;
}

export interface TipAdapterFOptions {
  cache: TipCache;
  /** [N, V, E] normalized views of the cache's images. */
  viewFeatures: Float32Array;
  nViews: number;
  zsText: Float32Array;
  params?: TipParams;
  lr?: number;
  eps?: number;
  weightDecay?: number;
  epochs?: number;
  batchSize?: number;
  seed?: number;
  /** The batches of an epoch; by default the CoOp sampler's (seeded shuffle, one view per image, drop_last). */
  plan?: (epoch: number) => Batch[];
}

export interface TipAdapterFEpoch {
  /** 1-based. */
  epoch: number;
  epochs: number;
  /** Mean training loss over the epoch's batches. */
  loss: number;
  /** Per batch, in order. */
  losses: number[];
  trainAcc: number;
  /** The keys after this epoch, [N, E]. */
  keys: Float32Array;
}

/**
 * Tip-Adapter-F's fine-tuning of the cache keys, one epoch per yielded value. d loss / d keys follows from
 * logits = zs + α Σ_i exp(−β (1 − f·k_i)) onehot(y_i): d/d(f·k_i) = α β exp(−β (1 − f·k_i)) · dlogits[y_i].
 */
export function* tipAdapterF(o: TipAdapterFOptions): Generator<TipAdapterFEpoch, Float32Array, void> {
  const { cache, viewFeatures, nViews, zsText } = o;
  const { alpha, beta } = o.params ?? TIP_ADAPTER_DEFAULTS;
  const lr0 = o.lr ?? TIP_ADAPTER_F_DEFAULTS.lr;
  const eps = o.eps ?? TIP_ADAPTER_F_DEFAULTS.eps;
  const wd = o.weightDecay ?? TIP_ADAPTER_F_DEFAULTS.weightDecay;
  const [b1, b2] = TIP_ADAPTER_F_DEFAULTS.betas;
  const epochs = o.epochs ?? TIP_ADAPTER_F_DEFAULTS.epochs;
  const batchSize = o.batchSize ?? TIP_ADAPTER_F_DEFAULTS.batchSize;
  const N = cache.labels.length;
  const E = cache.dim;
  const C = cache.nClasses;
  const plan = o.plan ?? ((epoch: number) => epochPlan({ nImages: N, nViews, batchSize, seed: o.seed ?? 1, epoch }));
  const stepsPerEpoch = plan(0).length;
  const tMax = epochs * stepsPerEpoch;
  const W = Float64Array.from(cache.keys);
  const m = new Float64Array(W.length);
  const v = new Float64Array(W.length);
  const g = new Float64Array(W.length);
  let t = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    const losses: number[] = [];
    let correct = 0;
    let seen = 0;
    for (const batch of plan(epoch)) {
      const { features, labels } = gatherBatch(batch, viewFeatures, nViews, E, cache.labels);
      const B = labels.length;
      const zs = tipZeroShotLogits(features, zsText, E, cache.zeroShotScale);
      const aff = affinity(features, W, B, N, E);
      const logits = combine(zs, aff, cache, { alpha, beta });
      // Cross-entropy (mean over the batch) and d loss / d logits.
      let loss = 0;
      const dl = new Float64Array(B * C);
      for (let b = 0; b < B; b++) {
        let mx = -Infinity;
        for (let c = 0; c < C; c++) mx = Math.max(mx, logits[b * C + c]);
        let s = 0;
        for (let c = 0; c < C; c++) s += Math.exp(logits[b * C + c] - mx);
        const lse = mx + Math.log(s);
        loss += lse - logits[b * C + labels[b]];
        for (let c = 0; c < C; c++) dl[b * C + c] = Math.exp(logits[b * C + c] - lse) / B;
        dl[b * C + labels[b]] -= 1 / B;
      }
      losses.push(loss / B);
      correct += accuracy(argmaxRows(logits, B, C), labels) * B;
      seen += B;
      g.fill(0);
      for (let b = 0; b < B; b++)
        for (let i = 0; i < N; i++) {
          const d = alpha * beta * Math.exp(-(beta - beta * aff[b * N + i])) * dl[b * C + cache.labels[i]];
          if (d !== 0) for (let e = 0; e < E; e++) g[i * E + e] += d * features[b * E + e];
        }
      // AdamW as torch.optim.AdamW, at CosineAnnealingLR's lr for step t.
      const lr = (lr0 * (1 + Math.cos((Math.PI * t) / tMax))) / 2;
      t++;
      const bc1 = 1 - b1 ** t;
      const bc2 = 1 - b2 ** t;
      for (let j = 0; j < W.length; j++) {
        W[j] *= 1 - lr * wd;
        m[j] = b1 * m[j] + (1 - b1) * g[j];
        v[j] = b2 * v[j] + (1 - b2) * g[j] * g[j];
        W[j] -= ((lr / bc1) * m[j]) / (Math.sqrt(v[j]) / Math.sqrt(bc2) + eps);
      }
    }
    yield {
      epoch: epoch + 1,
      epochs,
      loss: losses.reduce((a, b) => a + b, 0) / Math.max(1, losses.length),
      losses,
      trainAcc: seen ? correct / seen : NaN,
      keys: Float32Array.from(W),
    };
  }
  return Float32Array.from(W);
}

/** Runs tipAdapterF to the end: the trained keys. */
export function trainTipAdapterF(o: TipAdapterFOptions, onEpoch?: (e: TipAdapterFEpoch) => void): Float32Array {
  const it = tipAdapterF(o);
  for (;;) {
    const r = it.next();
    if (r.done) return r.value;
    onEpoch?.(r.value);
  }
}
