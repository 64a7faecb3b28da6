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

export interface PromptLearner {
  lossAndGrad: LossAndGradFn;
  /** Logits [N, K] of normalized image features [N·E] against the classes the engine holds. */
  logits(ctx: ContextVectors, features: Float32Array, classes: ClassSet): Promise<Float32Array>;
  /** Normalized [K, E] text features of those classes, to show (CoCoOp's: the context alone, no image's bias). */
  textFeatures(ctx: ContextVectors, classes: ClassSet): Promise<Float32Array>;
}

/** The logit scale a config scores with (CLIP's, clamped at 100 as CoOp's). */
function scaleOf(cfg: LearnerConfig): number {
  switch (cfg.method) {
    case 'coop':
      return 100;
    case 'kgcoop':
      return 100;
    case 'prograd':
      return cfg.logitScale;
    case 'cocoop':
      return cfg.cocoop.logitScale;
    case 'deep':
      return cfg.deep.logitScale;
    case 'tcp':
      return cfg.tcp.logitScale;
    default:
      return cfg.dept.logitScale;
  }
}

function dimOf(cfg: LearnerConfig, ctx: ContextVectors, txt: Float32Array, K: number): number {
  void cfg;
  void ctx;
  return txt.length / K;
}

export function promptLearner(cfg: LearnerConfig, engine: LearnerEngine): PromptLearner {
  const similarity = async (ctx: ContextVectors, features: Float32Array, txt: Float32Array, K: number) => {
    const E = dimOf(cfg, ctx, txt, K);
    return Float32Array.from(featureLogits(features, txt, { B: features.length / E, K, E, scale: scaleOf(cfg), row: (_b, k) => k }));
  };
  switch (cfg.method) {
    case 'coop':
    case 'kgcoop':
    case 'prograd': {
      const textFeatures = (ctx: ContextVectors) => engine.textFeatures(ctx.data);
      return {
        lossAndGrad: methodLossAndGrad(cfg, engine.step),
        textFeatures,
        logits: async (ctx, features, cls) => similarity(ctx, features, await textFeatures(ctx), cls.nClasses),
      };
    }
    case 'cocoop':
      return {
        lossAndGrad: (ctx, features, labels) => cocoopLossAndGrad(cfg.cocoop, ctx, features, labels, engine.tower),
        logits: (ctx, features, cls) => cocoopLogits({ ...cfg.cocoop, nClasses: cls.nClasses }, ctx, features, engine.tower),
        textFeatures: async (ctx) => (await engine.tower({ ctx: ctx.data })).textFeatures,
      };
    case 'deep': {
      const textFeatures = (ctx: ContextVectors, cls: ClassSet) => deepTextFeatures({ ...cfg.deep, nClasses: cls.nClasses }, ctx, engine.tower);
      return {
        lossAndGrad: (ctx, features, labels) => deepLossAndGrad(cfg.deep, ctx, features, labels, engine.tower),
        logits: (ctx, features, cls) => deepLogits({ ...cfg.deep, nClasses: cls.nClasses }, ctx, features, engine.tower),
        textFeatures,
      };
    }
    case 'tcp': {
      const textFeatures = (ctx: ContextVectors, cls: ClassSet) => {
        const hw = cls.which === 'base' ? cfg.tcp.handWritten : cls.handWritten;
        if (!hw || hw.length !== cls.nClasses * cfg.tcp.dim) throw new Error(`TCP needs the ${cls.which} classes' hand-written prompt features (${cls.nClasses}×${cfg.tcp.dim}) for their class tokens`);
        return tcpTextFeatures(cfg.tcp, ctx, hw, engine.tower);
      };
      return {
        lossAndGrad: (ctx, features, labels) => tcpLossAndGrad(cfg.tcp, ctx, features, labels, engine.tower),
        logits: async (ctx, features, cls) => similarity(ctx, features, await textFeatures(ctx, cls), cls.nClasses),
        textFeatures,
      };
    }
    case 'dept-coop':
    case 'dept-kgcoop': {
      const textFeatures = (ctx: ContextVectors) => engine.textFeatures(ctx.data);
      return {
        lossAndGrad: (ctx, features, labels) => deptLossAndGrad(cfg.dept, ctx, features, labels, engine.tower),
        logits: async (ctx, features, cls) => deptLogits(cfg.dept, ctx, features, await textFeatures(ctx), cls.which === 'base'),
        textFeatures,
      };
    }
  }
}
