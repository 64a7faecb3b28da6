/**
 * The few-shot methods offered beside CoOp, their names as people write them, and their own settings with the
 * official defaults (kgcoop.ts, prograd.ts, tip-adapter.ts, clap.ts, lp-plus-plus.ts, taskres.ts, clip-adapter.ts cite
 * where each comes from).
 */
import { KGCOOP_DEFAULT_WEIGHT } from './kgcoop';
import { PROGRAD_DEFAULTS } from './prograd';
import { isSuccessor, type Successor } from './prompt-learner';
import { DEFAULT_SUCCESSOR_SETTINGS, type SuccessorSettings } from './successors';

export const METHODS = ['coop', 'kgcoop', 'prograd', 'cocoop', 'deep', 'tcp', 'dept-coop', 'dept-kgcoop', 'tip', 'tip-f', 'clap', 'lpp', 'taskres', 'clip-adapter'] as const;
export type Method = (typeof METHODS)[number];

export const METHOD_LABELS: Readonly<Record<Method, string>> = Object.freeze({
  coop: 'CoOp',
  kgcoop: 'KgCoOp',
  prograd: 'ProGrad',
  cocoop: 'CoCoOp',
  deep: 'Deep prompts',
  tcp: 'TCP',
  'dept-coop': 'DePT (CoOp)',
  'dept-kgcoop': 'DePT (KgCoOp)',
  tip: 'Tip-Adapter',
  'tip-f': 'Tip-Adapter-F',
  clap: 'CLAP',
  lpp: 'LP++',
  taskres: 'TaskRes',
  'clip-adapter': 'CLIP-Adapter',
});

/** What people also type for a method. */
const ALIASES: Readonly<Record<string, Method>> = Object.freeze({
  'lp++': 'lpp',
  'tip-adapter': 'tip',
  'tip-adapter-f': 'tip-f',
  clipadapter: 'clip-adapter',
  dept: 'dept-coop',
  'deep-prompts': 'deep',
  ivlp: 'deep',
});

/** The feature-only methods of adapter-methods.ts (CLAP, LP++, TaskRes, CLIP-Adapter): cached features in, a classifier out. */
export function isFeatureMethod(m: Method): m is 'clap' | 'lpp' | 'taskres' | 'clip-adapter' {
  return m === 'clap' || m === 'lpp' || m === 'taskres' || m === 'clip-adapter';
}

/** Methods that learn a prompt through the text encoder (the CoOp trainer); the others work on image features. */
export function learnsPrompt(m: Method): m is 'coop' | 'kgcoop' | 'prograd' | Successor {
  return m === 'coop' || m === 'kgcoop' || m === 'prograd' || isSuccessor(m);
}

export interface MethodSettings extends SuccessorSettings {
  /** KgCoOp's w. */
  kgWeight: number;
  /** ProGrad's distillation temperature T and projection strength λ. */
  progradT: number;
  progradLambda: number;
}

export const DEFAULT_METHOD_SETTINGS: Readonly<MethodSettings> = Object.freeze({
  kgWeight: KGCOOP_DEFAULT_WEIGHT,
  progradT: PROGRAD_DEFAULTS.T,
  progradLambda: PROGRAD_DEFAULTS.lambda,
  ...DEFAULT_SUCCESSOR_SETTINGS,
});

/** "coop,kgcoop,tip-f" → methods, in order, once each; unknown names are refused with the list of known ones. */
export function parseMethods(list: string): Method[] {
  const out: Method[] = [];
  for (const raw of list.split(',')) {
    const name = raw.trim().toLowerCase();
    if (!name) continue;
    const m = (METHODS as readonly string[]).includes(name) ? (name as Method) : ALIASES[name];
    if (!m) throw new Error(`unknown method '${raw.trim()}': use one or more of ${METHODS.join(', ')}, separated by commas`);
    if (!out.includes(m)) out.push(m);
  }
  if (out.length === 0) throw new Error(`no method given: use one or more of ${METHODS.join(', ')}`);
  return out;
}
