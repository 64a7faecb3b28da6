/**
 * The successors as a person picks them: each one's official recipe (the settings its paper's code trains with),
 * the tensors it learns beside the context, and its learner config (prompt-learner.ts) from the run's settings.
 * The recipes are overlays on TrainSettings: what a run changes when the method is picked; everything else (views,
 * seed, warm-up) stays the person's.
 */
import { COCOOP_DEFAULTS, initMetaNet } from './cocoop';
import type { ContextVectors, NamedParam } from './context-init';
import { DEEP_PROMPT_DEFAULTS, deepPromptBlocks, initDeepPrompts } from './deep-prompts';
import { DEPT_DEFAULTS, initDept } from './dept';
import type { LearnerConfig, Successor } from './prompt-learner';
import type { TrainSettings } from './settings';
import { initTcpMetaNet, tcpBlock, TCP_DEFAULTS } from './tcp';
import type { PromptFileMethod } from './prompt-file-extras';

export interface SuccessorRecipe {
  settings: Partial<TrainSettings>;
  /** The config file or script the numbers come from. */
  source: string;
}

/** Each successor's official training recipe (docs/methods.md cites the files and names the deviations). */
export const SUCCESSOR_RECIPES: Readonly<Record<Successor, SuccessorRecipe>> = Object.freeze({
  cocoop: {
    settings: { nCtx: COCOOP_DEFAULTS.nCtx, init: 'words', initWords: COCOOP_DEFAULTS.initWords, csc: false, position: 'end', batchSize: COCOOP_DEFAULTS.batchSize, epochs: COCOOP_DEFAULTS.epochs, lr: COCOOP_DEFAULTS.lr, optimizer: 'sgd' },
    source: 'KaiyangZhou/CoOp configs/trainers/CoCoOp/vit_b16_c4_ep10_batch1_ctxv1.yaml',
  },
  deep: {
    settings: { nCtx: DEEP_PROMPT_DEFAULTS.nCtx, init: 'words', initWords: DEEP_PROMPT_DEFAULTS.initWords, csc: false, position: 'end', batchSize: DEEP_PROMPT_DEFAULTS.batchSize, epochs: DEEP_PROMPT_DEFAULTS.epochs, lr: DEEP_PROMPT_DEFAULTS.lr, optimizer: 'sgd' },
    source: 'muzairkhattak/multimodal-prompt-learning configs/trainers/IVLP/vit_b16_c2_ep5_batch4_4ctx_language_only.yaml',
  },
  tcp: {
    settings: { nCtx: TCP_DEFAULTS.nCtx, init: 'random', csc: false, position: 'end', batchSize: TCP_DEFAULTS.batchSize, epochs: TCP_DEFAULTS.epochs, lr: TCP_DEFAULTS.lr, optimizer: 'adam' },
    source: 'htyao89/Textual-based_Class-aware_prompt_tuning configs/trainers/TCP/vit_b16_ep100_ctxv1.yaml (MAX_EPOCH 50 despite its name), scripts/base2new_train.sh',
  },
  'dept-coop': {
    settings: { nCtx: 16, init: 'random', csc: false, position: 'end', batchSize: DEPT_DEFAULTS.batchSize, epochs: DEPT_DEFAULTS.epochs, lr: DEPT_DEFAULTS.lr, optimizer: 'sgd' },
    source: 'Koorye/DePT configs/trainers/ExtrasLinearProbeCoOp/vit_b16_ep10_bs4_lr35.yaml',
  },
  'dept-kgcoop': {
    settings: { nCtx: 4, init: 'words', initWords: 'a photo of a', csc: false, position: 'end', batchSize: DEPT_DEFAULTS.batchSize, epochs: DEPT_DEFAULTS.epochs, lr: DEPT_DEFAULTS.lr, optimizer: 'sgd' },
    source: 'Koorye/DePT configs/trainers/KgCoOp/vit_b16_ep10_ctxv1_bs4_lr35.yaml',
  },
});

/** What builds a successor's extras and config: the model's widths and depth, the classes, the run's seed. */
export interface SuccessorDims {
  /** Feature width. */
  E: number;
  /** Token width. */
  D: number;
  /** Text blocks. */
  L: number;
  /** Classes trained on (base classes). */
  K: number;
}

/** The successor's own settings a person may change (the rest is its recipe). */
export interface SuccessorSettings {
  /** TCP's knowledge-term weight (8). */
  tcpWeight: number;
  /** DePT's head share λ (0.7). */
  deptLpWeight: number;
  /** KgCoOp's weight under DePT (2, DePT's config; KgCoOp alone uses 8). */
  deptKgWeight: number;
}

export const DEFAULT_SUCCESSOR_SETTINGS: Readonly<SuccessorSettings> = Object.freeze({
  tcpWeight: TCP_DEFAULTS.weight,
  deptLpWeight: DEPT_DEFAULTS.lpWeight,
  deptKgWeight: DEPT_DEFAULTS.kgWeight,
});

/** The tensors a successor learns beside the context, initialised as its official code does (seeded). */
export function successorExtras(method: Successor, d: SuccessorDims, nCtx: number, seed: number): NamedParam[] {
  switch (method) {
    case 'cocoop':
      return initMetaNet({ E: d.E, D: d.D, seed });
    case 'deep':
      return initDeepPrompts({ nCtx, dim: d.D, blocks: deepPromptBlocks(d.L, DEEP_PROMPT_DEFAULTS.depth), seed });
    case 'tcp':
      return initTcpMetaNet({ dim: d.E, tokenDim: d.D, seed });
    case 'dept-coop':
    case 'dept-kgcoop':
      return initDept({ dim: d.E, nClasses: d.K, seed });
  }
}

/** The context with the successor's extras added (a copy; the context's own vectors unchanged). */
export function withSuccessorExtras(ctx: ContextVectors, method: Successor, d: SuccessorDims, seed: number): ContextVectors {
  if (ctx.cscClasses > 0) throw new Error(`${SUCCESSOR_LABELS[method]} learns one shared context; turn class-specific context off`);
  return { ...ctx, data: ctx.data.slice(), extras: successorExtras(method, d, ctx.nCtx, seed) };
}

export const SUCCESSOR_LABELS: Readonly<Record<Successor, string>> = Object.freeze({
  cocoop: 'CoCoOp',
  deep: 'Deep prompts',
  tcp: 'TCP',
  'dept-coop': 'DePT (CoOp)',
  'dept-kgcoop': 'DePT (KgCoOp)',
});

/**
 * A successor's learner config. `handWritten` are the base classes' hand-written prompt features [K, E] (TCP's MLP
 * input and anchors; KgCoOp's anchors under DePT); `logitScale` is CLIP's, clamped at 100 as the prompt learners'.
 */
export function successorConfig(method: Successor, s: SuccessorSettings, handWritten: Float32Array | null, logitScale: number, d: SuccessorDims): LearnerConfig {
  const base = { nClasses: d.K, dim: d.E, logitScale: Math.min(logitScale, 100) };
  const needHand = () => {
    if (!handWritten || handWritten.length !== d.K * d.E) throw new Error(`${SUCCESSOR_LABELS[method]} needs the hand-written prompts' text features (${d.K}×${d.E}); got ${handWritten?.length ?? 0} values`);
    return handWritten;
  };
  switch (method) {
    case 'cocoop':
      return { method, cocoop: base };
    case 'deep':
      return { method, deep: base };
    case 'tcp':
      return { method, tcp: { ...base, tokenDim: d.D, weight: s.tcpWeight, block: tcpBlock(d.L), handWritten: needHand() } };
    case 'dept-coop':
      return { method, dept: { ...base, base: 'coop', lpWeight: s.deptLpWeight } };
    case 'dept-kgcoop':
      return { method, dept: { ...base, base: 'kgcoop', lpWeight: s.deptLpWeight, kgcoop: { weight: s.deptKgWeight, clipFeatures: needHand() } } };
  }
}

/** What a successor's prompt file must say beyond its tensors for its prediction (prompt-file-extras.ts). */
export interface SuccessorFileInfo {
  /** Text blocks of the model (TCP's block). */
  L: number;
  /** The hand-written template its anchors came from ("a photo of a {}."): TCP's MLP input for any class. */
  template: string;
  /** The classes trained on, in order (DePT's head scores these). */
  baseClasses: string[];
}

/** The prompt file's method record of a successor run. */
export function successorFileMethod(method: Successor, s: SuccessorSettings, info: SuccessorFileInfo): PromptFileMethod {
  switch (method) {
    case 'cocoop':
    case 'deep':
      return { name: method, settings: {} };
    case 'tcp':
      return { name: method, settings: { block: tcpBlock(info.L), template: info.template, weight: s.tcpWeight } };
    case 'dept-coop':
    case 'dept-kgcoop':
      return { name: method, settings: { base_classes: [...info.baseClasses], lp_weight: s.deptLpWeight, ...(method === 'dept-kgcoop' ? { kg_weight: s.deptKgWeight, template: info.template } : {}) } };
  }
}

/** A successor's settings back from a prompt file's method record (defaults where the file is silent). */
export function successorFromFile(m: PromptFileMethod): { method: Successor; settings: SuccessorSettings; template: string | null; baseClasses: string[] | null } {
  const num = (k: string, d: number) => (typeof m.settings[k] === 'number' ? (m.settings[k] as number) : d);
  const d = DEFAULT_SUCCESSOR_SETTINGS;
  return {
    method: m.name,
    settings: { tcpWeight: num('weight', d.tcpWeight), deptLpWeight: num('lp_weight', d.deptLpWeight), deptKgWeight: num('kg_weight', d.deptKgWeight) },
    template: typeof m.settings.template === 'string' ? m.settings.template : null,
    baseClasses: Array.isArray(m.settings.base_classes) ? [...m.settings.base_classes] : null,
  };
}
