/**
 * CoOp, KgCoOp and ProGrad as loss/gradient functions for the one trainer (trainer.ts): the method changes what a
 * step computes, never the loop. Each wraps an engine step that accepts a term on the normalized text features
 * (the WGSL engine or its CPU twin, text-engine.ts TextFeatureGrad), so the extra gradient enters the same backward.
 *
 * - CoOp: the engine's cross-entropy step as is.
 * - KgCoOp (kgcoop.ts): one step with −(w/K)·ĉ added to the text-feature gradient; loss = CE + w(1 − mean cos).
 * - ProGrad (prograd.ts): one engine step with a second upstream gradient. Its one forward gives the logits; the
 *   distillation gradient on the text features follows from them (progradKl), and the engine backpropagates the
 *   CE's and the KL's through the same activations (text-engine.ts SecondTextGrad): g_ce and g_kl from one forward,
 *   as the official code (one forward, two backwards). The update is the official projection of g_ce against g_kl.
 */
import type { ContextVectors } from './context-init';
import { kgcoopPenalty, kgcoopTextGrad, type KgcoopSettings } from './kgcoop';
import { progradKl, progradProject, zeroShotTeacher, type ProgradSettings } from './prograd';
import type { LossAndGrad, LossAndGradFn } from './trainer';
import type { SecondTextGrad } from '../engine/text-engine';

export const PROMPT_METHODS = ['coop', 'kgcoop', 'prograd'] as const;
export type PromptMethod = (typeof PROMPT_METHODS)[number];

export interface TextGrad {
  add: Float32Array;
  replace?: boolean;
}

export interface EngineStepResult {
  loss: number;
  logits: Float32Array;
  gradCtx: Float32Array;
  /** Normalized [K, E]; engines return them when given a textGrad. */
  textFeatures?: Float32Array | ArrayLike<number>;
  /** d / d ctx of the second upstream gradient; engines return it when given a secondGrad. */
  gradCtx2?: Float32Array;
}

/**
 * One engine step on a batch, optionally with a method's term on the normalized text features and a second upstream
 * gradient formed from the step's logits (backpropagated beside the first, from the same forward). Must not modify ctx.
 */
export type EngineStepFn = (
  ctx: ContextVectors,
  features: Float32Array,
  labels: Int32Array,
  textGrad?: TextGrad,
  secondGrad?: SecondTextGrad,
) => Promise<EngineStepResult> | EngineStepResult;

export type MethodConfig =
  | { method: 'coop' }
  | { method: 'kgcoop'; kgcoop: KgcoopSettings; nClasses: number; dim: number }
  | { method: 'prograd'; prograd: ProgradSettings; nClasses: number; dim: number; logitScale: number };

/** The gradient the SGD step uses, and the loss a person sees, for one batch under `cfg`. */
export function methodLossAndGrad(cfg: MethodConfig, step: EngineStepFn): LossAndGradFn {
  switch (cfg.method) {
    case 'coop':
      return async (ctx, features, labels) => {
        const r = await step(ctx, features, labels);
        return { loss: r.loss, logits: r.logits, gradCtx: r.gradCtx };
      };
    case 'kgcoop': {
      const { nClasses: K, dim: E } = cfg;
      const { weight, clipFeatures } = cfg.kgcoop;
      // Constant for the run: the hand-written prompts' features are frozen.
      const add = kgcoopTextGrad(clipFeatures, K, E, weight);
      return async (ctx, features, labels): Promise<LossAndGrad> => {
        const r = await step(ctx, features, labels, { add });
        if (!r.textFeatures) throw new Error('KgCoOp: the engine returned no text features');
        const kg = kgcoopPenalty(r.textFeatures, clipFeatures, K, E, weight);
        return { loss: r.loss + kg, logits: r.logits, gradCtx: r.gradCtx, terms: { ce: r.loss, kg } };
      };
    }
    case 'prograd': {
      const { nClasses: K, dim: E, logitScale } = cfg;
      const { T, lambda, zeroShotLogits } = cfg.prograd;
      return async (ctx, features, labels): Promise<LossAndGrad> => {
        const N = labels.length;
        const zs = zeroShotLogits(features);
        let kl = NaN;
        // The KL gradient on the text features, from this step's own logits, in place of the CE's.
        const klGrad: SecondTextGrad = (logits) => {
          const r = progradKl(logits, zs, features, N, K, E, logitScale, T);
          kl = r.kl;
          return { add: r.dText, replace: true };
        };
        const ce = await step(ctx, features, labels, undefined, klGrad);
        if (!ce.gradCtx2) throw new Error('ProGrad: the engine returned no second gradient (the KL divergence\'s)');
        const p = progradProject(ce.gradCtx, ce.gradCtx2, lambda);
        return { loss: ce.loss, logits: ce.logits, gradCtx: p.grad, terms: { ce: ce.loss, kl, cos: p.cosine, projected: p.projected ? 1 : 0 } };
      };
    }
  }
}

/**
 * The config of a prompt-learning method from its settings. `handWritten` are the hand-written prompts' normalized
 * text features [K, E] (the chosen template or ensemble): KgCoOp's anchors and ProGrad's zero-shot teacher, whose
 * scale is CLIP's logit scale as the learner's (clamped at 100, as CoOp does).
 */
export function promptMethodConfig(
  method: PromptMethod,
  s: { kgWeight: number; progradT: number; progradLambda: number },
  handWritten: Float32Array | null,
  logitScale: number,
  nClasses: number,
  dim: number,
): MethodConfig {
  if (method === 'coop') return { method };
  if (!handWritten || handWritten.length !== nClasses * dim) {
    throw new Error(`${method === 'kgcoop' ? 'KgCoOp' : 'ProGrad'} needs the hand-written prompts' text features (${nClasses}×${dim}); got ${handWritten?.length ?? 0} values`);
  }
  if (method === 'kgcoop') return { method, nClasses, dim, kgcoop: { weight: s.kgWeight, clipFeatures: handWritten } };
  const scale = Math.min(logitScale, 100);
  return { method, nClasses, dim, logitScale: scale, prograd: { T: s.progradT, lambda: s.progradLambda, zeroShotLogits: zeroShotTeacher(handWritten, dim, scale) } };
}
