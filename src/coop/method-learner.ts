/**
 * A prompt method as a run sets it up, for hosts that pick it by name (the command line; the worker builds the same
 * from its setup request): which settings it trains with (a successor's official recipe under the person's explicit
 * choices), whether it needs the hand-written prompts' features, and its learner config (prompt-learner.ts).
 */
import { isSuccessor, type LearnerConfig, type Successor } from './prompt-learner';
import { promptMethodConfig } from './prompt-methods';
import type { TrainSettings } from './settings';
import { SUCCESSOR_RECIPES, successorConfig, type SuccessorDims } from './successors';
import type { MethodSettings } from './method-settings';

export type PromptMethodName = 'coop' | 'kgcoop' | 'prograd' | Successor;

/**
 * Methods whose loss or prediction reads the hand-written prompts' text features: KgCoOp's and ProGrad's anchor,
 * TCP's class-token MLP input, KgCoOp's anchor under DePT.
 */
export function needsHandWritten(m: PromptMethodName): boolean {
  return m === 'kgcoop' || m === 'prograd' || m === 'tcp' || m === 'dept-kgcoop';
}

/** The TrainSettings keys a successor's recipe sets. */
export type RecipeKey = keyof TrainSettings;

export interface MethodRun<S> {
  settings: S;
  /** The recipe's source (config file), for a successor; null for CoOp, KgCoOp and ProGrad. */
  source: string | null;
  /** Recipe keys the person set explicitly, kept over the recipe. */
  overridden: RecipeKey[];
}

/**
 * The settings a method trains with: CoOp, KgCoOp and ProGrad the run's own; a successor its official recipe
 * (successors.ts SUCCESSOR_RECIPES) except where the person chose a value explicitly (`explicit`). `init` carries
 * `initWords` with it.
 */
export function methodRunSettings<S extends Omit<TrainSettings, 'seed' | 'csc'>>(m: PromptMethodName, run: S, explicit: ReadonlySet<RecipeKey>): MethodRun<S> {
  if (!isSuccessor(m)) return { settings: run, source: null, overridden: [] };
  const recipe = SUCCESSOR_RECIPES[m];
  const out: Record<string, unknown> = { ...run };
  const overridden: RecipeKey[] = [];
  for (const [k, v] of Object.entries(recipe.settings) as Array<[RecipeKey, unknown]>) {
    const key: RecipeKey = k === 'initWords' ? 'init' : k;
    if (explicit.has(key)) {
      if (!overridden.includes(key)) overridden.push(key);
      continue;
    }
    out[k] = v;
  }
  // A random-init recipe keeps the run's words unused; Adam is written only when chosen (settings.ts).
  if (out.optimizer === 'sgd' && run.optimizer === undefined) delete out.optimizer;
  return { settings: out as S, source: recipe.source, overridden };
}

/** The learner config of any prompt method; `handWritten` are the trained classes' features (needsHandWritten). */
export function methodLearnerConfig(m: PromptMethodName, s: MethodSettings, handWritten: Float32Array | null, logitScale: number, d: SuccessorDims): LearnerConfig {
  return isSuccessor(m) ? successorConfig(m, s, handWritten, logitScale, d) : promptMethodConfig(m, s, handWritten, logitScale, d.K, d.E);
}
