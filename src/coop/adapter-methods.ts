/**
 * The feature-only methods run the same way from the command line, the app and a test: one call from a few-shot
 * run's cached features to a fitted classifier (its logits on new features) and the weights its exported file
 * carries. The methods themselves live in their own modules (clap.ts, lp-plus-plus.ts, taskres.ts,
 * clip-adapter.ts), with the official settings and the reasons for every difference from the official code.
 */
import { clapLogits, trainClap, CLAP_DEFAULTS } from './clap';
import { clipAdapterEpochs, clipAdapterLogits, trainClipAdapter, CLIP_ADAPTER_DEFAULTS } from './clip-adapter';
import { baseKey, subsetClasses } from './base-to-new';
import type { AdapterEpoch } from './cosine-head';
import { accuracy, argmaxRows } from './metrics';
import { lpPlusPlus, lpPlusPlusLogits } from './lp-plus-plus';
import { taskResEpochs, taskResLogits, taskResSettings, trainTaskRes } from './taskres';
import type { TrainingSet } from './trainer';

export const FEATURE_METHODS = ['clap', 'lpp', 'taskres', 'clip-adapter'] as const;
export type FeatureMethod = (typeof FEATURE_METHODS)[number];

export interface FeatureRunInput extends TrainingSet {
  labels: Int32Array;
  /** [N, E] each support image's clean (centre-crop) features: LP++ trains on these, as the linear probe. */
  cleanFeatures: Float32Array;
  /** [C, E] the zero-shot classifier, L2-normalized (CLIP-Adapter's and LP++'s text features). */
  text: Float32Array;
  /** [C, E] the class anchors as the official CLAP and TaskRes build them: the template mean of the unnormalized text features. Defaults to `text`. */
  anchors?: Float32Array;
  shots: number;
  seed: number;
  /** CoOp's dataset key, for TaskRes's per-dataset α and lr. */
  dataset?: string | null;
  /** A few-shot validation split: LP++ picks its epoch on it. */
  val?: { features: Float32Array; labels: Int32Array } | null;
  /**
   * The cosine logits' multiplier: 100 by default, as the official codes (CLIP's exp(logit_scale)). The command line
   * and the app keep 100 for every model; on the toy model its own 20.8 measured far lower (docs/methods.md).
   */
  logitScale?: number;
}

/** The weights of a fitted method, by name, as its exported file carries them (adapter-file.ts). */
export type AdapterWeights =
  | { method: 'clap'; weights: Float32Array; scale: number }
  | { method: 'taskres'; text: Float32Array; residual: Float32Array; alpha: number; scale: number }
  | { method: 'clip-adapter'; text: Float32Array; w1: Float32Array; w2: Float32Array; hidden: number; ratio: number; scale: number }
  | { method: 'lpp'; text: Float32Array; weights: Float32Array; bias: Float32Array; alpha: Float32Array };

export interface FittedAdapter {
  weights: AdapterWeights;
  /** The settings it trained with, for the file and the log. */
  settings: Record<string, number | string | boolean | null>;
  /** One line for the log: what was chosen and why. */
  note: string;
}

/** The classifier's logits [B, C] on features [B, E]. */
export function adapterLogits(w: AdapterWeights, features: ArrayLike<number>, dim: number): Float32Array {
  switch (w.method) {
    case 'clap':
      return clapLogits(features, w.weights, dim, w.scale);
    case 'taskres':
      return taskResLogits(features, w.text, w.residual, w.alpha, dim, w.scale);
    case 'clip-adapter':
      return clipAdapterLogits(features, w.text, { w1: w.w1, w2: w.w2, hidden: w.hidden, ratio: w.ratio, scale: w.scale }, dim);
    case 'lpp':
      return lpPlusPlusLogits(features, w.text, w, dim);
  }
}

export function adapterClasses(w: AdapterWeights, dim: number): number {
  return (w.method === 'clap' ? w.weights.length : w.text.length) / dim;
}

export function fitFeatureAdapter(method: FeatureMethod, o: FeatureRunInput, onEpoch?: (e: AdapterEpoch) => void): FittedAdapter {
  const data = { viewFeatures: o.viewFeatures, nImages: o.nImages, nViews: o.nViews, dim: o.dim, labels: o.labels, nClasses: o.nClasses, seed: o.seed };
  const anchors = o.anchors ?? o.text;
  const scale = o.logitScale ?? 100;
  switch (method) {
    case 'clap': {
      const m = trainClap({ ...data, anchors, scale }, onEpoch);
      return {
        weights: { method, weights: m.weights, scale: m.scale },
        settings: { lr: CLAP_DEFAULTS.lr, epochs: CLAP_DEFAULTS.epochs, batch_size: CLAP_DEFAULTS.batchSize, views: o.nViews, anchors: o.anchors ? 'template mean, unnormalized' : 'normalized', logit_scale: scale },
        note: `λ_c from ${(Math.min(...m.multipliers)).toFixed(3)} to ${(Math.max(...m.multipliers)).toFixed(3)}; ${CLAP_DEFAULTS.epochs} epochs, last kept`,
      };
    }
    case 'taskres': {
      const { alpha, lr } = taskResSettings(o.dataset);
      const epochs = taskResEpochs(o.shots);
      const m = trainTaskRes({ ...data, text: anchors, alpha, lr, epochs, scale }, onEpoch);
      return {
        weights: { method, text: anchors, residual: m.residual, alpha: m.alpha, scale: m.scale },
        settings: { alpha, lr, epochs, batch_size: 256, logit_scale: scale },
        note: `α ${alpha}, lr ${lr}, ${epochs} epochs, last kept`,
      };
    }
    case 'clip-adapter': {
      const epochs = clipAdapterEpochs(o.shots);
      const m = trainClipAdapter({ ...data, text: o.text, epochs, scale }, onEpoch);
      return {
        weights: { method, text: o.text, w1: m.w1, w2: m.w2, hidden: m.hidden, ratio: m.ratio, scale: m.scale },
        settings: { ratio: m.ratio, reduction: CLIP_ADAPTER_DEFAULTS.reduction, lr: CLIP_ADAPTER_DEFAULTS.lr, epochs, batch_size: CLIP_ADAPTER_DEFAULTS.batchSize, logit_scale: scale },
        note: `ratio ${m.ratio}, CoOp's SGD: lr ${CLIP_ADAPTER_DEFAULTS.lr}, batch ${CLIP_ADAPTER_DEFAULTS.batchSize}, ${epochs} epochs, last kept`,
      };
    }
    case 'lpp': {
      const val = o.val && o.val.labels.length ? o.val : null;
      const r = lpPlusPlus({ features: o.cleanFeatures, labels: o.labels, text: o.text, dim: o.dim, nClasses: o.nClasses, val, seed: o.seed }, onEpoch);
      return {
        weights: { method, text: o.text, ...r.model },
        settings: { epochs: 300, lr_w: r.setup.lrW, lr_alpha: r.setup.lrAlpha, alpha0: r.setup.alpha0, epoch_kept: r.epoch, selected_by: r.selectedBy },
        note: `α₀ ${r.setup.alpha0.toFixed(2)}, lr_w ${r.setup.lrW.toPrecision(3)}, lr_α ${r.setup.lrAlpha.toPrecision(3)}; epoch ${r.epoch} kept (${r.selectedBy === 'validation' ? `best on val, ${(100 * r.valAcc!).toFixed(1)}%` : 'no val split: the last'})`,
      };
    }
  }
}

export interface LabelledSet {
  name: string;
  features: Float32Array;
  labels: Int32Array;
}

export interface FeatureFitRequest {
  method: FeatureMethod;
  input: FeatureRunInput;
  /** Splits to score, labelled among all classes. */
  evalSets: LabelledSet[];
  /** Base-to-new: the classes trained on (the input is labelled by position among them); null otherwise. */
  baseClasses: number[] | null;
}

export interface FeatureFitResult {
  method: FeatureMethod;
  /** Per split (base-to-new: '<split>/base' only; the caller adds the new classes' zero-shot fallback), in [0, 1]. */
  accuracies: Record<string, number>;
  /** Per epoch, the training accuracy of its batches. */
  curve: Array<Record<string, number>>;
  ms: number;
  note: string;
  weights: AdapterWeights;
  /** The settings it trained with (FittedAdapter.settings), for its exported file. */
  settings: FittedAdapter['settings'];
}

/** Fits a method and scores it on each split: what the app's Method panel shows for it. */
export function fitAndScore(req: FeatureFitRequest, now: () => number = () => performance.now()): FeatureFitResult {
  const { method, input, evalSets, baseClasses } = req;
  const dim = input.dim;
  const curve: Array<Record<string, number>> = [];
  const t0 = now();
  const fit = fitFeatureAdapter(method, input, (e) => curve.push({ train: e.trainAcc }));
  const ms = now() - t0;
  const K = adapterClasses(fit.weights, dim);
  const acc = (f: Float32Array, y: Int32Array) => accuracy(argmaxRows(adapterLogits(fit.weights, f, dim), y.length, K), y);
  const accuracies: Record<string, number> = { train: acc(input.cleanFeatures, input.labels) };
  for (const s of evalSets) {
    if (!s.labels.length) continue;
    if (!baseClasses) accuracies[s.name] = acc(s.features, s.labels);
    else {
      const b = subsetClasses(s, baseClasses, dim);
      if (b.labels.length) accuracies[baseKey(s.name)] = acc(b.features, b.labels);
    }
  }
  return { method, accuracies, curve, ms, note: fit.note, weights: fit.weights, settings: fit.settings };
}
