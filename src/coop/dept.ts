/**
 * DePT (Zhang, Wu, Pan, Lu, CVPR 2024, "DePT: Decoupled Prompt Tuning"; official code Koorye/DePT,
 * trainers/elp_coop.py, trainers/elp_kgcoop.py, the FiLM module in trainers/elp_maple.py, trainers/optim.py and
 * train.py's defaults, read, not copied) as a plug-in on CoOp and KgCoOp.
 *
 * Channel-wise transformation (the official FiLM, "cwT"): a feature-wise scale and shift for the text features and
 * another for the image features, u = γ_t ⊙ t + β_t and v = γ_i ⊙ f + β_i (γ = 1, β = 0 at init), and a linear head
 * over the base classes (linear_probe_proj, nn.Linear(E, K)) trained on both: the text rows of the batch's labels and
 * the images, 2B rows with labels [y, y]. On base classes
 *
 *   loss = (1 − λ) · CE(s · f tᵀ, y) + λ · CE(head([u_{y}; v]), [y; y])   (+ w · (1 − mean cos(t, c)) on KgCoOp),
 *
 * λ = 0.7, and the test-time logits fuse the two heads' logits (not probabilities): (1 − λ) · s f tᵀ + λ · head(v).
 * New classes (no head) are scored by the similarity alone. The FiLMs and the head train at 6.5× the prompt's lr.
 *
 * The head here sees the L2-normalized features (the tower hands the host normalized text features and the image
 * features are cached normalized), where the official code feeds it the raw CLIP features: a named deviation
 * (docs/methods.md).
 */
import type { ContextVectors, NamedParam } from './context-init';
import { isCsc } from './context-init';
import { crossEntropy, linearInit, matmulT } from './cosine-head';
import { anchorPenalty, similarityCe } from './feature-loss';
import type { KgcoopSettings } from './kgcoop';
import { deriveSeed } from './random';
import type { LossAndGrad } from './trainer';
import type { FeatureLoss, TowerStepFn } from '../engine/tower';

/** The official defaults (train.py extend_cfg, configs/trainers/ExtrasLinearProbeCoOp/vit_b16_ep10_bs4_lr35.yaml). */
export const DEPT_DEFAULTS = {
  /** λ, TRAINER.LINEAR_PROBE.WEIGHT: the head's share of the loss and of the base-class logits. */
  lpWeight: 0.7,
  /** OPTIM.LR_EXP: the FiLMs' and the head's lr over the prompt's (NEW_LAYERS ['linear_probe', 'film']). */
  lrScale: 6.5,
  optimizer: 'sgd',
  /** The prompt's lr (OPTIM.LR 0.0035); the new layers train at 0.0035 · 6.5 = 0.02275. */
  lr: 0.0035,
  momentum: 0.9,
  weightDecay: 5e-4,
  epochs: 10,
  batchSize: 4,
  warmupEpochs: 1,
  /** During the constant warm-up every group runs at this lr, the new layers too (Dassl's ConstantWarmupScheduler). */
  warmupLr: 1e-5,
  /** TRAINER.COOP.W in DePT's KgCoOp config (KgCoOp's own default is 8). */
  kgWeight: 2.0,
} as const;

/** The official parameter names (CustomCLIP.film_lp_img, film_lp_text, linear_probe_proj), in their creation order. */
export const DEPT_PARAM_NAMES = [
  'film_lp_img.scale',
  'film_lp_img.bias',
  'film_lp_text.scale',
  'film_lp_text.bias',
  'linear_probe_proj.weight',
  'linear_probe_proj.bias',
] as const;

/** deriveSeed purpose tag of the head's initialization (random.ts STREAM's tags are 1..6). */
export const DEPT_INIT_STREAM = 0x7d0;

export type DeptBase = 'coop' | 'kgcoop';

export interface DeptConfig {
  base: DeptBase;
  /** K, the base classes (the head's outputs and the step's rows). */
  nClasses: number;
  /** E. */
  dim: number;
  /** s, CLIP's logit scale. */
  logitScale: number;
  /** λ. */
  lpWeight: number;
  /** KgCoOp's term, when base = 'kgcoop': w and the hand-written prompts' normalized features [K, E]. */
  kgcoop?: KgcoopSettings;
}

/** FiLMs at identity (scale 1, shift 0) and the head with nn.Linear's default initialization, seeded; lrScale 6.5. */
export function initDept({ dim, nClasses, seed, lrScale = DEPT_DEFAULTS.lrScale }: { dim: number; nClasses: number; seed: number; lrScale?: number }): NamedParam[] {
  const E = dim;
  const K = nClasses;
  const head = (i: number, n: number) => Float32Array.from(linearInit(n, E, deriveSeed(seed, i), DEPT_INIT_STREAM));
  const p = (name: string, shape: number[], data: Float32Array): NamedParam => ({ name, shape, data, lrScale });
  return [
    p(DEPT_PARAM_NAMES[0], [E], new Float32Array(E).fill(1)),
    p(DEPT_PARAM_NAMES[1], [E], new Float32Array(E)),
    p(DEPT_PARAM_NAMES[2], [E], new Float32Array(E).fill(1)),
    p(DEPT_PARAM_NAMES[3], [E], new Float32Array(E)),
    p(DEPT_PARAM_NAMES[4], [K, E], head(0, K * E)),
    p(DEPT_PARAM_NAMES[5], [K], head(1, K)),
  ];
}

/** γ_i, β_i, γ_t, β_t, W [K, E], b [K], in DEPT_PARAM_NAMES' order. */
export type DeptParams = readonly ArrayLike<number>[];

/** DePT's tensors in a context's extras, and where each sits among the extras. */
export function deptParams(ctx: ContextVectors, dim: number): { params: DeptParams; index: number[]; nClasses: number } {
  const extras = ctx.extras ?? [];
  const index = DEPT_PARAM_NAMES.map((name) => {
    const i = extras.findIndex((p) => p.name === name);
    if (i < 0) throw new Error(`DePT: the context has no '${name}' (initDept makes them)`);
    return i;
  });
  const params = index.map((i) => extras[i].data);
  const K = params[5].length;
  if (params.slice(0, 4).some((a) => a.length !== dim) || params[4].length !== K * dim) {
    throw new RangeError(`DePT: the modulations and the head do not fit E = ${dim}, K = ${K}`);
  }
  return { params, index, nClasses: K };
}

/** head(γ ⊙ x + β) = (γ ⊙ x + β) Wᵀ + b for rows x [n, E]: the modulated rows and the logits [n, K]. */
function filmHead(gamma: ArrayLike<number>, beta: ArrayLike<number>, W: ArrayLike<number>, b: ArrayLike<number>, x: ArrayLike<number>, n: number, E: number, K: number) {
  const mod = new Float64Array(n * E);
  for (let r = 0; r < n; r++) for (let e = 0; e < E; e++) mod[r * E + e] = gamma[e] * x[r * E + e] + beta[e];
  const logits = matmulT(mod, W, n, K, E);
  for (let r = 0; r < n; r++) for (let k = 0; k < K; k++) logits[r * K + k] += b[k];
  return { mod, logits };
}

export interface DeptTextLoss {
  loss: number;
  /** The similarity logits' CE, the head's CE (over 2B rows), and KgCoOp's term (0 on CoOp). */
  ce: number;
  ceLp: number;
  kg: number;
  /** The base-class logits as evaluated: (1 − λ) · s f tᵀ + λ · head(v), [B, K]. */
  logits: Float64Array;
  /** d loss / d t [K, E]. */
  dText: Float64Array;
  /** d loss / d each of DEPT_PARAM_NAMES, in that order. */
  dParams: Float64Array[];
}

/** DePT's loss on the normalized text features t [K, E] and images f [B, E], with its gradients on t and its tensors. */
export function deptTextLoss(cfg: DeptConfig, p: DeptParams, text: ArrayLike<number>, features: ArrayLike<number>, labels: ArrayLike<number>): DeptTextLoss {
  const { nClasses: K, dim: E, lpWeight: lam } = cfg;
  const B = labels.length;
  const [gi, bi, gt, bt, W, bh] = p;
  const sim = similarityCe(text, features, labels, K, E, cfg.logitScale);
  // The head's 2B rows: the labels' text features first, then the images, as torch.cat([text_feats[labels], img_feats]).
  const rows = new Float64Array(2 * B * E);
  for (let r = 0; r < B; r++) for (let e = 0; e < E; e++) rows[r * E + e] = text[labels[r] * E + e];
  rows.set(Float64Array.from(features), B * E);
  const modT = filmHead(gt, bt, W, bh, rows.subarray(0, B * E), B, E, K);
  const modI = filmHead(gi, bi, W, bh, rows.subarray(B * E), B, E, K);
  const allLogits = new Float64Array(2 * B * K);
  allLogits.set(modT.logits);
  allLogits.set(modI.logits, B * K);
  const allLabels = Int32Array.from({ length: 2 * B }, (_, r) => labels[r % B]);
  const lp = crossEntropy(allLogits, allLabels, K);

  // Backward of λ · CE_lp.
  const dLogits = lp.dlogits;
  for (let i = 0; i < dLogits.length; i++) dLogits[i] *= lam;
  const dW = new Float64Array(K * E);
  const db = new Float64Array(K);
  const dGt = new Float64Array(E);
  const dBt = new Float64Array(E);
  const dGi = new Float64Array(E);
  const dBi = new Float64Array(E);
  const dText = new Float64Array(K * E);
  for (let r = 0; r < 2 * B; r++) {
    const isText = r < B;
    const mod = isText ? modT.mod : modI.mod;
    const m = isText ? r : r - B;
    const x = rows.subarray(r * E, (r + 1) * E);
    const dMod = new Float64Array(E);
    for (let k = 0; k < K; k++) {
      const g = dLogits[r * K + k];
      db[k] += g;
      for (let e = 0; e < E; e++) {
        dW[k * E + e] += g * mod[m * E + e];
        dMod[e] += g * W[k * E + e];
      }
    }
    const dGamma = isText ? dGt : dGi;
    const dBeta = isText ? dBt : dBi;
    for (let e = 0; e < E; e++) {
      dGamma[e] += dMod[e] * x[e];
      dBeta[e] += dMod[e];
    }
    if (isText) for (let e = 0; e < E; e++) dText[labels[r] * E + e] += dMod[e] * gt[e];
  }
  // (1 − λ) · CE of the similarity logits.
  for (let i = 0; i < dText.length; i++) dText[i] += (1 - lam) * sim.dText[i];
  let kg = 0;
  if (cfg.base === 'kgcoop') {
    if (!cfg.kgcoop) throw new Error("DePT on KgCoOp needs the hand-written prompts' features (cfg.kgcoop)");
    const a = anchorPenalty(text, cfg.kgcoop.clipFeatures, K, E, cfg.kgcoop.weight);
    kg = a.penalty;
    for (let i = 0; i < dText.length; i++) dText[i] += a.dText[i];
  }
  const logits = new Float64Array(B * K);
  for (let i = 0; i < B * K; i++) logits[i] = (1 - lam) * sim.logits[i] + lam * modI.logits[i];
  return {
    loss: (1 - lam) * sim.loss + lam * lp.loss + kg,
    ce: sim.loss,
    ceLp: lp.loss,
    kg,
    logits,
    dText,
    dParams: [dGi, dBi, dGt, dBt, dW, db],
  };
}

/**
 * One DePT step on its base method: the tower's K rows, the loss on their features, the context's gradient from
 * the tower and the FiLMs' and head's on the host. gradExtras follows ctx.extras' order.
 */
export async function deptLossAndGrad(cfg: DeptConfig, ctx: ContextVectors, features: Float32Array, labels: Int32Array, tower: TowerStepFn): Promise<LossAndGrad> {
  const { params, index, nClasses } = deptParams(ctx, cfg.dim);
  if (nClasses !== cfg.nClasses) throw new RangeError(`DePT: the head has ${nClasses} classes, the step ${cfg.nClasses}`);
  let parts: DeptTextLoss | null = null;
  const featureLoss: FeatureLoss = (txt) => {
    parts = deptTextLoss(cfg, params, txt, features, labels);
    return { loss: parts.loss, dTxt: parts.dText, logits: Float32Array.from(parts.logits) };
  };
  const r = await tower({ ctx: ctx.data, csc: isCsc(ctx), featureLoss });
  const p = parts as DeptTextLoss | null;
  if (!r.gradCtx || !p) throw new Error('DePT: the tower returned no context gradient');
  const gradExtras = (ctx.extras ?? []).map((e) => new Float32Array(e.data.length));
  index.forEach((i, j) => gradExtras[i].set(p.dParams[j]));
  const terms: Record<string, number> = { ce: p.ce, ce_lp: p.ceLp };
  if (cfg.base === 'kgcoop') terms.kg = p.kg;
  return { loss: r.loss, logits: Float32Array.from(p.logits), gradCtx: r.gradCtx, gradExtras, terms };
}

/**
 * Evaluation logits [N, K] of images f [N, E] against normalized text features t [K, E]: on the base classes (the
 * head's) (1 − λ) · s f tᵀ + λ · head(γ_i ⊙ f + β_i), on new classes s f tᵀ alone (the official _forward_new).
 */
export function deptLogits(cfg: Pick<DeptConfig, 'dim' | 'logitScale' | 'lpWeight'>, ctx: ContextVectors, features: Float32Array, txt: Float32Array, isBase: boolean): Float32Array {
  const E = cfg.dim;
  const K = txt.length / E;
  const N = features.length / E;
  if (!Number.isInteger(K) || !Number.isInteger(N)) throw new RangeError(`DePT: ${txt.length} text and ${features.length} image values do not fit E = ${E}`);
  const sim = matmulT(features, txt, N, K, E);
  for (let i = 0; i < sim.length; i++) sim[i] *= cfg.logitScale;
  if (!isBase) return Float32Array.from(sim);
  const { params, nClasses } = deptParams(ctx, E);
  if (nClasses !== K) throw new RangeError(`DePT: the head scores ${nClasses} base classes, the text features are ${K}`);
  const head = filmHead(params[0], params[1], params[4], params[5], features, N, E, K).logits;
  const lam = cfg.lpWeight;
  return Float32Array.from(sim, (s, i) => (1 - lam) * s + lam * head[i]);
}
