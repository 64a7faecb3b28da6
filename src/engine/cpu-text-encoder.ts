/**
 * CPU twin of the text engine: CLIP's text transformer, the CoOp loss, and the backward
 * pass to the context vectors, composed from the ops' CPU twins. It is the reference the
 * WGSL engine is tested against and runs in Float64 for finite-difference checks.
 *
 * The shared-prefix split is the same as on the GPU: the P leading positions that every
 * prompt has in common run once as their own causal sequence; each class then runs only
 * its S = T − P own positions, attending to the prefix's keys/values. Gradients flow only
 * from the classes into the prefix (never back), so all classes' backward passes come
 * first, summing the prefix's key/value gradients per layer, and the prefix's own
 * backward runs last.
 */
import type { AttentionDims } from './ops/attention/cpu';
import { cosineCEBackwardCpu, cosineCEForwardCpu } from './ops/cosine-ce/cpu';
import { embeddingForwardCpu } from './ops/embedding/cpu';
import { gatherRowsBackwardCpu, gatherRowsForwardCpu } from './ops/gather/cpu';
import { l2NormalizeBackwardCpu, l2NormalizeForwardCpu } from './ops/l2norm/cpu';
import { linearBackwardCpu, linearForwardCpu } from './ops/linear/cpu';
import { referenceKernels, type CpuKernels } from './ops/kernels';
import { like, type Arr, type IndexArr } from './ops/tensor';
import { addInPlaceCpu } from './ops/add/cpu';
import { deepTokensCollectCpu, deepTokensReplaceCpu, type DeepTokenDims } from './ops/deep-tokens/cpu';
import type { TextConfig, TextLayerWeights, TextWeights } from './model/text-weights';
import type { EngineMode } from './plan';
import type { SecondTextGrad, TextFeatureGrad } from './text-engine';
import { checkDeepTokens, type DeepTokens, type FeatureLoss } from './tower';
import { assembleEmbeddings, eosIndex, scatterContextGrad, sharedPrefixLength, usedLength, type PromptLayout } from './prompt';

/** What a layer keeps for its backward pass. */
interface LayerSaved {
  x: Arr;
  ln1Mean: Arr;
  ln1Rstd: Arr;
  q: Arr;
  k: Arr;
  v: Arr;
  /** attention output (the attention backward needs it) */
  o: Arr;
  xmid: Arr;
  ln2Mean: Arr;
  ln2Rstd: Arr;
  /** fc1 output, the QuickGELU pre-activation */
  f: Arr;
}

/** The prefix's keys and values per layer, as every class's attention sees them. */
export interface PrefixKV {
  P: number;
  k: Arr[];
  v: Arr[];
}

function attnDims(cfg: TextConfig, B: number, S: number, P: number): AttentionDims {
  return { b: B, t: S, p: P, h: cfg.H, dh: cfg.D / cfg.H };
}

function layerForward(kern: CpuKernels, cfg: TextConfig, lw: TextLayerWeights, x: Arr, B: number, S: number, prefix?: { P: number; k: Arr; v: Arr }): { out: Arr; saved: LayerSaved } {
  const { D, F, eps } = cfg;
  const rows = B * S;
  const mm = kern.matmul;
  const ln1 = kern.layerNormForward(x, lw.ln1.weight, lw.ln1.bias, rows, D, eps);
  const q = linearForwardCpu(ln1.y, lw.q.w, lw.q.b, rows, D, D, mm);
  const k = linearForwardCpu(ln1.y, lw.k.w, lw.k.b, rows, D, D, mm);
  const v = linearForwardCpu(ln1.y, lw.v.w, lw.v.b, rows, D, D, mm);
  const o = kern.attentionForward({ q, k, v, kp: prefix?.k, vp: prefix?.v }, attnDims(cfg, B, S, prefix?.P ?? 0));
  const xmid = kern.add(x, linearForwardCpu(o, lw.out.w, lw.out.b, rows, D, D, mm));
  const ln2 = kern.layerNormForward(xmid, lw.ln2.weight, lw.ln2.bias, rows, D, eps);
  const f = linearForwardCpu(ln2.y, lw.fc1.w, lw.fc1.b, rows, D, F, mm);
  const out = kern.add(xmid, linearForwardCpu(kern.quickGeluForward(f), lw.fc2.w, lw.fc2.b, rows, F, D, mm));
  return { out, saved: { x, ln1Mean: ln1.mean, ln1Rstd: ln1.rstd, q, k, v, o, xmid, ln2Mean: ln2.mean, ln2Rstd: ln2.rstd, f } };
}

/**
 * d(layer input) from d(layer output). With a prefix, also returns d K_p / d V_p summed over
 * the B sequences. `extraKV` adds gradients that other sequences sent to this one's keys and
 * values (the prefix receiving every class's contribution).
 */
function layerBackward(
  kern: CpuKernels,
  cfg: TextConfig,
  lw: TextLayerWeights,
  s: LayerSaved,
  dOut: Arr,
  B: number,
  S: number,
  prefix?: { P: number; k: Arr; v: Arr },
  extraKV?: { dk: Arr; dv: Arr },
): { dx: Arr; dkp?: Arr; dvp?: Arr } {
  const { D, F } = cfg;
  const rows = B * S;
  const mm = kern.matmul;
  const dg = linearBackwardCpu(dOut, lw.fc2.w, rows, F, D, mm);
  const df = kern.quickGeluBackward(dg, s.f);
  const dh2 = linearBackwardCpu(df, lw.fc1.w, rows, D, F, mm);
  const dxmid = kern.add(dOut, kern.layerNormBackward(dh2, s.xmid, lw.ln2.weight, s.ln2Mean, s.ln2Rstd, rows, D));
  const dO = linearBackwardCpu(dxmid, lw.out.w, rows, D, D, mm);
  const g = kern.attentionBackward({ q: s.q, k: s.k, v: s.v, kp: prefix?.k, vp: prefix?.v }, s.o, dO, attnDims(cfg, B, S, prefix?.P ?? 0));
  if (extraKV) {
    kern.addInPlace(g.dk, extraKV.dk);
    kern.addInPlace(g.dv, extraKV.dv);
  }
  // dh1 = dQ·Wqᵀ + dK·Wkᵀ + dV·Wvᵀ, summed in the matmuls' epilogue.
  const dh1 = linearBackwardCpu(g.dq, lw.q.w, rows, D, D, mm);
  mm(g.dk, lw.k.w, { m: rows, n: D, k: D, transB: true }, undefined, dh1);
  mm(g.dv, lw.v.w, { m: rows, n: D, k: D, transB: true }, undefined, dh1);
  const dx = kern.add(dxmid, kern.layerNormBackward(dh1, s.x, lw.ln1.weight, s.ln1Mean, s.ln1Rstd, rows, D));
  return prefix ? { dx, dkp: g.dkp, dvp: g.dvp } : { dx };
}

/**
 * Deep tokens between blocks (tower.ts DeepTokens) for one run of B sequences × S positions: `replace` writes the
 * tokens over a block's input in place, `collect` takes the block's input gradient at those positions into the
 * tokens' gradient and zeroes it there (nothing flows below a replaced position).
 */
export interface DeepHooks {
  replace(l: number, x: Arr): void;
  collect(l: number, dx: Arr): void;
}

/** The transformer on B sequences of S positions (positions already added), optionally after a shared prefix. */
export function transformerForwardCpu(w: TextWeights, x0: Arr, B: number, S: number, prefix?: PrefixKV, kern: CpuKernels = referenceKernels, deep?: DeepHooks): { out: Arr; saved: LayerSaved[] } {
  let x = x0;
  const saved: LayerSaved[] = [];
  w.layers.forEach((lw, l) => {
    // x is the previous block's output, which no saved tensor aliases: replacing in place is safe.
    if (deep && l > 0) deep.replace(l, x);
    const r = layerForward(kern, w.config, lw, x, B, S, prefix && prefix.P > 0 ? { P: prefix.P, k: prefix.k[l], v: prefix.v[l] } : undefined);
    saved.push(r.saved);
    x = r.out;
  });
  return { out: x, saved };
}

export function transformerBackwardCpu(
  w: TextWeights,
  saved: LayerSaved[],
  dOut: Arr,
  B: number,
  S: number,
  prefix?: PrefixKV,
  extraKV?: { dk: Arr[]; dv: Arr[] },
  kern: CpuKernels = referenceKernels,
  deep?: DeepHooks,
): { dx: Arr; dkp: Arr[]; dvp: Arr[] } {
  let d = dOut;
  const dkp: Arr[] = [];
  const dvp: Arr[] = [];
  for (let l = w.layers.length - 1; l >= 0; l--) {
    const p = prefix && prefix.P > 0 ? { P: prefix.P, k: prefix.k[l], v: prefix.v[l] } : undefined;
    const r = layerBackward(kern, w.config, w.layers[l], saved[l], d, B, S, p, extraKV ? { dk: extraKV.dk[l], dv: extraKV.dv[l] } : undefined);
    d = r.dx;
    if (deep && l > 0) deep.collect(l, d);
    if (r.dkp && r.dvp) {
      dkp[l] = r.dkp;
      dvp[l] = r.dvp;
    }
  }
  return { dx: d, dkp, dvp };
}

/** EOS row → final layer norm → text projection: text_embeds [B, E] (not normalized). */
export function headForwardCpu(w: TextWeights, xL: Arr, eosRel: IndexArr, B: number, S: number, kern: CpuKernels = referenceKernels) {
  const { D, E, eps } = w.config;
  const pooled = gatherRowsForwardCpu(xL, eosRel, B, S, D);
  const ln = kern.layerNormForward(pooled, w.finalLn.weight, w.finalLn.bias, B, D, eps);
  const feats = linearForwardCpu(ln.y, w.projection, undefined, B, D, E, kern.matmul);
  return { feats, pooled, mean: ln.mean, rstd: ln.rstd };
}

export function headBackwardCpu(w: TextWeights, h: ReturnType<typeof headForwardCpu>, dFeats: Arr, eosRel: IndexArr, B: number, S: number, kern: CpuKernels = referenceKernels): Arr {
  const { D, E } = w.config;
  const dy = linearBackwardCpu(dFeats, w.projection, B, D, E, kern.matmul);
  const dPooled = kern.layerNormBackward(dy, h.pooled, w.finalLn.weight, h.mean, h.rstd, B, D);
  return gatherRowsBackwardCpu(dPooled, eosRel, B, S, D);
}

/** x + positional embedding rows offset..offset+S−1, for B sequences. */
function addPositions(w: TextWeights, x: Arr, B: number, S: number, offset: number): Arr {
  const D = w.config.D;
  const out = like(x, B * S * D);
  for (let b = 0; b < B; b++)
    for (let s = 0; s < S; s++)
      for (let d = 0; d < D; d++) out[(b * S + s) * D + d] = x[(b * S + s) * D + d] + w.positionEmbedding[(offset + s) * D + d];
  return out;
}

/**
 * text_embeds for tokenized prompts [B×T ids] (CLIPTextModelWithProjection's output).
 * Computes positions only up to the last EOS, which is exact under the causal mask.
 */
export function encodeTokensCpu(w: TextWeights, ids: IndexArr, B: number, kern: CpuKernels = referenceKernels): Float32Array {
  const T = ids.length / B;
  const eos = Array.from({ length: B }, (_, b) => eosIndex(Array.prototype.slice.call(ids, b * T, (b + 1) * T) as number[]));
  const S = Math.max(...eos) + 1;
  const cut = new Int32Array(B * S);
  for (let b = 0; b < B; b++) for (let s = 0; s < S; s++) cut[b * S + s] = ids[b * T + s];
  const x0 = embeddingForwardCpu(w.tokenEmbedding, w.positionEmbedding, cut, { b: B, t: S, d: w.config.D });
  const { out } = transformerForwardCpu(w, x0, B, S, undefined, kern);
  return Float32Array.from(headForwardCpu(w, out, eos, B, S, kern).feats);
}

export interface EncoderLossInput {
  /** Input embeddings of the prompts [K, T, D], positional embeddings not added. */
  embeddings: Arr;
  K: number;
  T: number;
  /** EOS position per class (< T). */
  eos: IndexArr;
  /** Leading positions shared by every class (0: none). Their embeddings are read from class 0. */
  prefix: number;
  /** [N, E], L2-normalized. */
  imageFeatures: Arr;
  labels: IndexArr;
  /** exp(logit_scale) */
  logitScale: number;
  /** A method's term on the normalized text features (text-engine.ts TextFeatureGrad), added before the backward. */
  textGrad?: TextFeatureGrad;
  /** A second upstream gradient formed from this step's logits (text-engine.ts SecondTextGrad): dEmbeddings2. */
  secondGrad?: SecondTextGrad;
  /** Deep tokens (tower.ts): per-row tokens need `prefix` ≤ 1, since the rows differ from position 1 on. */
  deep?: DeepTokens[];
  /** A host loss on the normalized text features in place of the CE (imageFeatures and labels then unused). */
  featureLoss?: FeatureLoss;
  /** Stop after the text features: no loss, no backward. */
  forwardOnly?: boolean;
}

export interface EncoderLossResult {
  loss: number;
  /** [N, K] */
  logits: Arr;
  /** Normalized text features [K, E]. */
  textFeatures: Arr;
  /** d loss / d embeddings [K, T, D]; a shared prefix's gradient (summed over classes) sits in class 0's rows. */
  dEmbeddings: Arr;
  /** The same for the second upstream gradient, when one was asked for. */
  dEmbeddings2?: Arr;
  /** Chunks of classes the step ran in (1: all at once; more: all but the last recomputed for backward). */
  chunks: number;
  /** d loss / d deep tokens, one per entry of `deep`, in its layout. */
  dDeep?: Arr[];
}

/**
 * Hooks for one run: rows r0.. of the step (B of them), S positions starting at absolute position `offset`, through
 * the deep-tokens op's CPU twin. Shared tokens' gradients sum over every run and row; per-row tokens' land in their row.
 */
function deepHooks(deep: readonly DeepTokens[], Ms: readonly number[], grads: Arr[] | undefined, D: number, r0: number, B: number, S: number, offset: number): DeepHooks {
  const byBlock = new Map(deep.map((d, i) => [d.block, i]));
  const dims = (i: number): DeepTokenDims => ({ b: B, s: S, d: D, m: Ms[i], offset, r0, perRow: deep[i].perRow });
  return {
    replace: (l, x) => {
      const i = byBlock.get(l);
      if (i !== undefined) deepTokensReplaceCpu(x, deep[i].tokens, dims(i));
    },
    collect: (l, dx) => {
      const i = byBlock.get(l);
      if (i !== undefined) deepTokensCollectCpu(dx, grads?.[i], dims(i));
    },
  };
}

/** Forward to the CoOp loss and backward to the input embeddings. */
export function encoderLossCpu(w: TextWeights, input: EncoderLossInput, kern: CpuKernels = referenceKernels): EncoderLossResult {
  const { D, E } = w.config;
  const { embeddings: emb, K, T, eos, prefix: P } = input;
  const S = T - P;
  for (let k = 0; k < K; k++) if (!(eos[k] >= P && eos[k] < T)) throw new Error(`class ${k}: EOS at ${eos[k]} is outside positions ${P}..${T - 1}`);
  const deep = input.deep ?? [];
  const Ms = checkDeepTokens(deep, w.config.L, D, K);
  let minEos = T;
  for (let k = 0; k < K; k++) minEos = Math.min(minEos, eos[k]);
  if (deep.length && input.secondGrad) throw new Error('deep tokens with a second upstream gradient are not supported: their gradients would mix');
  Ms.forEach((M, i) => {
    if (1 + M > minEos) throw new Error(`deep tokens for block ${deep[i].block}: ${M} tokens from position 1 reach a prompt's EOS at ${minEos}`);
    if (deep[i].perRow && P > 1) throw new Error(`deep tokens for block ${deep[i].block} differ per row, so the rows share no prefix beyond SOS (got ${P})`);
  });
  const dDeep = deep.length && !input.forwardOnly ? deep.map((d) => like(emb, d.tokens.length)) : undefined;
  const hooks = (r0: number, B: number, S: number, offset: number) => (deep.length ? deepHooks(deep, Ms, dDeep, D, r0, B, S, offset) : undefined);
  let pre: { kv: PrefixKV; saved: LayerSaved[] } | undefined;
  if (P > 0) {
    const xp = addPositions(w, emb.subarray(0, P * D), 1, P, 0);
    const f = transformerForwardCpu(w, xp, 1, P, undefined, kern, hooks(0, 1, P, 0));
    pre = { kv: { P, k: f.saved.map((s) => s.k), v: f.saved.map((s) => s.v) }, saved: f.saved };
  }
  const eosRel = Array.from(eos, (e) => e - P);
  // Classes in chunks when the kernel set bounds its activations (the WASM engine's arena): every chunk's forward
  // gives its text features, the last chunk's activations stay live, and the others are recomputed for backward, as
  // the WGSL planner does. One chunk (the reference, or a step within budget) computes everything once.
  const per = classesPerChunk(kern, w.config, K, S);
  const chunks: [number, number][] = [];
  for (let k0 = 0; k0 < K; k0 += per) chunks.push([k0, Math.min(K, k0 + per)]);
  const forwardChunk = (k0: number, k1: number) => {
    const c = k1 - k0;
    const own = like(emb, c * S * D);
    for (let k = k0; k < k1; k++) own.set(emb.subarray((k * T + P) * D, (k * T + T) * D), (k - k0) * S * D);
    const fw = transformerForwardCpu(w, addPositions(w, own, c, S, P), c, S, pre?.kv, kern, hooks(k0, c, S, P));
    const rel = eosRel.slice(k0, k1);
    return { fw, head: headForwardCpu(w, fw.out, rel, c, S, kern), rel, c };
  };
  const feats = like(emb, K * E);
  let live: ReturnType<typeof forwardChunk> | undefined;
  for (const [i, [k0, k1]] of chunks.entries()) {
    const mark = kern.mark?.();
    const f = forwardChunk(k0, k1);
    feats.set(f.head.feats, k0 * E);
    if (i === chunks.length - 1) live = f;
    else if (mark !== undefined) kern.release!(mark);
  }
  const txt = l2NormalizeForwardCpu(feats, K, E);
  if (input.forwardOnly) {
    return { loss: 0, logits: like(emb, 0), textFeatures: txt, dEmbeddings: like(emb, 0), chunks: chunks.length };
  }
  const fl = input.featureLoss?.(Float32Array.from(txt));
  if (fl && fl.dTxt.length !== K * E) throw new Error(`the feature loss gave ${fl.dTxt.length} gradient values, expected R·E = ${K}·${E}`);
  const img = like(emb, fl ? 0 : input.imageFeatures.length);
  img.set(fl ? [] : input.imageFeatures);
  const N = fl ? 0 : input.labels.length;
  const dims = { n: N, k: K, e: E, scale: input.logitScale };
  const ce = fl ? { loss: fl.loss, logits: fl.logits ?? new Float32Array(0), lse: like(emb, 0) } : cosineCEForwardCpu(img, txt, input.labels, dims, kern.matmul);

  /** d loss / d (normalized text features): the CE's, with a method's term added or in its place; a feature loss's. */
  const upstream = (tg: TextFeatureGrad | undefined, name: string): Arr => {
    if (fl) {
      const d = like(emb, K * E);
      d.set(fl.dTxt);
      return d;
    }
    const { dTxt } = cosineCEBackwardCpu(img, ce.logits, ce.lse, input.labels, dims, 1, kern.matmul);
    if (!tg) return dTxt;
    if (tg.add.length !== K * E) throw new Error(`${name} has ${tg.add.length} values, expected K·E = ${K}·${E}`);
    const out = tg.replace ? like(emb, K * E) : dTxt;
    // As the WGSL loss pass: the method's term joins the CE's gradient, one backward serves both.
    for (let i = 0; i < K * E; i++) out[i] += tg.add[i];
    return out;
  };
  const dFeats1 = l2NormalizeBackwardCpu(upstream(input.textGrad, 'textGrad'), feats, K, E);
  // ProGrad's KL gradient needs this forward's logits: formed now, sent through the same activations per chunk.
  const dFeats2 = input.secondGrad ? l2NormalizeBackwardCpu(upstream(input.secondGrad(ce.logits), 'the second text gradient'), feats, K, E) : undefined;
  const grads = [dFeats1, ...(dFeats2 ? [dFeats2] : [])].map((dFeats) => ({
    dFeats,
    dEmb: like(emb, K * T * D),
    // The prefix's key/value gradients, summed over every chunk's classes (JavaScript arrays: they outlive chunks).
    dkp: pre ? w.layers.map(() => like(emb, P * D)) : [],
    dvp: pre ? w.layers.map(() => like(emb, P * D)) : [],
  }));
  /** Each upstream gradient back through one chunk's kept activations; what outlives the chunk is copied out. */
  const backwardChunk = (f: ReturnType<typeof forwardChunk>, k0: number) => {
    for (const g of grads) {
      const dxL = headBackwardCpu(w, f.head, g.dFeats.subarray(k0 * E, (k0 + f.c) * E), f.rel, f.c, S, kern);
      const bw = transformerBackwardCpu(w, f.fw.saved, dxL, f.c, S, pre?.kv, undefined, kern, hooks(k0, f.c, S, P));
      for (let k = 0; k < f.c; k++) g.dEmb.set(bw.dx.subarray(k * S * D, (k + 1) * S * D), ((k0 + k) * T + P) * D);
      if (pre)
        for (let l = 0; l < w.layers.length; l++) {
          addInPlaceCpu(g.dkp[l], bw.dkp[l]);
          addInPlaceCpu(g.dvp[l], bw.dvp[l]);
        }
    }
  };
  backwardChunk(live!, chunks[chunks.length - 1][0]);
  for (const [k0, k1] of chunks.slice(0, -1)) {
    const mark = kern.mark?.();
    backwardChunk(forwardChunk(k0, k1), k0);
    if (mark !== undefined) kern.release!(mark);
  }
  if (pre) {
    for (const g of grads) {
      const pb = transformerBackwardCpu(w, pre.saved, like(emb, P * D), 1, P, undefined, { dk: g.dkp, dv: g.dvp }, kern, hooks(0, 1, P, 0));
      g.dEmb.set(pb.dx, 0);
    }
  }
  return { loss: ce.loss, logits: ce.logits, textFeatures: txt, dEmbeddings: grads[0].dEmb, ...(dFeats2 ? { dEmbeddings2: grads[1].dEmb } : {}), chunks: chunks.length, ...(dDeep ? { dDeep } : {}) };
}

/**
 * Classes per chunk: all of them unless the kernel set bounds its activations (`activationBudget`, the WASM arena),
 * then as many as fit half of it (the live chunk and one recomputed chunk are held at once). A class's activations
 * per position and layer: about 48·D + 8·F floats (saved tensors and the arena's temporaries; 6.4 MiB a class was
 * measured at ViT-B/32 with 4 positions, this says 7.7).
 */
export function classesPerChunk(kern: CpuKernels, cfg: TextConfig, K: number, S: number): number {
  if (!kern.activationBudget || !kern.release) return K;
  const perClass = 4 * (48 * cfg.D + 8 * cfg.F) * S * cfg.L;
  return Math.max(1, Math.min(K, Math.floor(kern.activationBudget / 2 / perClass)));
}

export interface CoopStepInput {
  layout: PromptLayout;
  /** [M, D] or [K, M, D]; Float64 here makes the whole step Float64. */
  ctx: Arr;
  imageFeatures: Arr;
  labels: IndexArr;
  logitScale: number;
  textGrad?: TextFeatureGrad;
  secondGrad?: SecondTextGrad;
}

export interface CoopStepResult {
  loss: number;
  logits: Arr;
  gradCtx: Arr;
  /** d (second upstream gradient's loss) / d ctx, when `secondGrad` was given. */
  gradCtx2?: Arr;
  textFeatures: Arr;
  /** Token positions run through the transformer this step. */
  positions: number;
  T: number;
  prefix: number;
  /** Chunks of classes (1 unless the kernel set's activation budget asked for more). */
  chunks: number;
}

/** How many positions a path computes per class and how many lead the prompts in common. */
export function pathLengths(layout: PromptLayout, mode: EngineMode): { T: number; P: number } {
  if (mode === 'naive') return { T: layout.T, P: 0 };
  return { T: usedLength(layout), P: sharedPrefixLength(layout) };
}

/** One CoOp step on the CPU: assembled prompts → loss, logits, d loss / d ctx. */
export function coopStepCpu(w: TextWeights, input: CoopStepInput, mode: EngineMode = 'fast', kern: CpuKernels = referenceKernels): CoopStepResult {
  const { layout } = input;
  const { D } = w.config;
  const { T, P } = pathLengths(layout, mode);
  // The prompts' input embeddings, token rows and context rows, cut at the last EOS (no copy of the vocabulary).
  const emb = assembleEmbeddings(layout, w.tokenEmbedding, input.ctx, D, T);
  const r = encoderLossCpu(w, {
    embeddings: emb,
    K: layout.K,
    T,
    eos: layout.eos,
    prefix: P,
    imageFeatures: input.imageFeatures,
    labels: input.labels,
    logitScale: input.logitScale,
    textGrad: input.textGrad,
    secondGrad: input.secondGrad,
  }, kern);
  return {
    loss: r.loss,
    logits: r.logits,
    textFeatures: r.textFeatures,
    gradCtx: scatterContextGrad(layout, r.dEmbeddings, D, T),
    ...(r.dEmbeddings2 ? { gradCtx2: scatterContextGrad(layout, r.dEmbeddings2, D, T) } : {}),
    positions: P + layout.K * (T - P),
    T,
    prefix: P,
    chunks: r.chunks,
  };
}
