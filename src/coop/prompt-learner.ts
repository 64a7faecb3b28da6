/**
 * Every prompt-learning method behind one face, for the worker, the command line and coop:grad: the loss and
 * gradient of a batch (trainer.ts LossAndGradFn), the logits of images against the engine's current classes, and the
 * classes' text features to show. CoOp, KgCoOp and ProGrad run the engine's CoOp step (prompt-methods.ts); the
 * successors run the tower step (src/engine/tower.ts):
 *
 * - CoCoOp (cocoop.ts): a context per image × class from the Meta-Net; scored image by image.
 * - Deep language prompting (deep-prompts.ts): shared tokens at every block's input.
 * - TCP (tcp.ts): class tokens at one block from an MLP on the hand-written features; new classes get theirs from
 *   the same MLP.
 * - DePT on CoOp or KgCoOp (dept.ts): feature modulations and a head over the base classes; new classes by
 *   similarity alone.
 */
import type { ContextVectors } from './context-init';
import { cocoopLogits, cocoopLossAndGrad, type CocoopConfig } from './cocoop';
import { deepLogits, deepLossAndGrad, deepTextFeatures } from './deep-prompts';
import { deptLogits, deptLossAndGrad, type DeptConfig } from './dept';
import { featureLogits } from './feature-ce';
import { methodLossAndGrad, type EngineStepFn, type MethodConfig } from './prompt-methods';
import { tcpLossAndGrad, tcpTextFeatures, type TcpConfig } from './tcp';
import type { LossAndGradFn } from './trainer';
import type { TowerStepFn } from '../engine/tower';

export const SUCCESSORS = ['cocoop', 'deep', 'tcp', 'dept-coop', 'dept-kgcoop'] as const;
export type Successor = (typeof SUCCESSORS)[number];

export function isSuccessor(m: string): m is Successor {
  return (SUCCESSORS as readonly string[]).includes(m);
}

/** What a learner needs of a text engine: the CoOp step, the tower step and the CoOp prompts' features. */
export interface LearnerEngine {
  step: EngineStepFn;
  tower: TowerStepFn;
  /** L2-normalized [K, E] features of the engine's current prompts with this context (CoOp's prompts). */
  textFeatures(ctx: Float32Array): Promise<Float32Array>;
}

export type LearnerConfig =
  | MethodConfig
  | { method: 'cocoop'; cocoop: CocoopConfig }
  | { method: 'deep'; deep: { nClasses: number; dim: number; logitScale: number } }
  | { method: 'tcp'; tcp: TcpConfig }
  | { method: 'dept-coop' | 'dept-kgcoop'; dept: DeptConfig };

/** Which classes the engine holds now: the trained (base) ones, or others (new classes), with what they need. */
export interface ClassSet {
  which: 'base' | 'new';
  nClasses: number;
  /** Their hand-written prompts' normalized features [K, E] (TCP's MLP input). */
  handWritten?: Float32Array | null;
}

/** Scores images against one class set with a fixed context: its text features, computed once, and logits. */
export interface ClassScorer {
  /** Normalized [K, E] text features of the classes, to show (CoCoOp's: the context alone, no image's bias). */
  textFeatures: Float32Array;
  /** Logits [N, K] of normalized image features [N·E]. */
  logits(features: Float32Array): Promise<Float32Array>;
}

export interface PromptLearner {
  lossAndGrad: LossAndGradFn;
  /** A scorer for the classes the engine holds now (setPrompts): the trained ones, or new ones. */
  scorer(ctx: ContextVectors, classes: ClassSet): Promise<ClassScorer>;
}

/** logits = scale · f tᵀ, the similarity every prompt learner but CoCoOp and DePT's base classes score by. */
function similarity(txt: Float32Array, K: number, scale: number): ClassScorer['logits'] {
  const E = txt.length / K;
  return async (features) => Float32Array.from(featureLogits(features, txt, { B: features.length / E, K, E, scale, row: (_b, k) => k }));
}

export function promptLearner(cfg: LearnerConfig, engine: LearnerEngine): PromptLearner {
  const coopText = (ctx: ContextVectors) => engine.textFeatures(ctx.data);
  switch (cfg.method) {
    case 'coop':
    case 'kgcoop':
    case 'prograd':
      return {
        lossAndGrad: methodLossAndGrad(cfg, engine.step),
        // Only the ranking matters to a prompt learner's scores: CLIP's 100.
        scorer: async (ctx, cls) => {
          const txt = await coopText(ctx);
          return { textFeatures: txt, logits: similarity(txt, cls.nClasses, cfg.method === 'prograd' ? cfg.logitScale : 100) };
        },
      };
    case 'cocoop':
      return {
        lossAndGrad: (ctx, features, labels) => cocoopLossAndGrad(cfg.cocoop, ctx, features, labels, engine.tower),
        scorer: async (ctx, cls) => ({
          textFeatures: (await engine.tower({ ctx: ctx.data })).textFeatures,
          logits: (features) => cocoopLogits({ ...cfg.cocoop, nClasses: cls.nClasses }, ctx, features, engine.tower),
        }),
      };
    case 'deep':
      return {
        lossAndGrad: (ctx, features, labels) => deepLossAndGrad(cfg.deep, ctx, features, labels, engine.tower),
        scorer: async (ctx, cls) => {
          const txt = await deepTextFeatures({ ...cfg.deep, nClasses: cls.nClasses }, ctx, engine.tower);
          return { textFeatures: txt, logits: similarity(txt, cls.nClasses, cfg.deep.logitScale) };
        },
      };
    case 'tcp':
      return {
        lossAndGrad: (ctx, features, labels) => tcpLossAndGrad(cfg.tcp, ctx, features, labels, engine.tower),
        scorer: async (ctx, cls) => {
          const hw = cls.which === 'base' ? cfg.tcp.handWritten : cls.handWritten;
          if (!hw || hw.length !== cls.nClasses * cfg.tcp.dim) throw new Error(`TCP needs the ${cls.which} classes' hand-written prompt features (${cls.nClasses}×${cfg.tcp.dim}) for their class tokens`);
          const txt = await tcpTextFeatures(cfg.tcp, ctx, hw, engine.tower);
          return { textFeatures: txt, logits: similarity(txt, cls.nClasses, cfg.tcp.logitScale) };
        },
      };
    case 'dept-coop':
    case 'dept-kgcoop':
      return {
        lossAndGrad: (ctx, features, labels) => deptLossAndGrad(cfg.dept, ctx, features, labels, engine.tower),
        scorer: async (ctx, cls) => {
          const txt = await coopText(ctx);
          return { textFeatures: txt, logits: async (features) => deptLogits(cfg.dept, ctx, features, txt, cls.which === 'base') };
        },
      };
  }
}
