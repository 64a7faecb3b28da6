/**
 * Picking a method on the Train page. A successor (CoCoOp, deep prompts, TCP, DePT) brings its official recipe
 * (successors.ts SUCCESSOR_RECIPES): picking it writes the recipe into the training settings, where the person
 * still sees and may change every number. Going back to CoOp, KgCoOp, ProGrad or an adapter puts back the values
 * the recipe replaced (only those: a change made meanwhile to another setting stays).
 */
import { METHOD_LABELS, type Method } from '../../coop/method-settings';
import { isSuccessor, type Successor } from '../../coop/prompt-learner';
import type { TrainSettings } from '../../coop/settings';
import { SUCCESSOR_RECIPES } from '../../coop/successors';
import { useMethodStore } from './method-store';
import { useTrainStore } from './train-store';

/** One line a person reads in the picker: what the method adds to CoOp. */
export const METHOD_HINTS: Readonly<Record<Method, string>> = Object.freeze({
  coop: 'learns the context words of "[V]1 … [V]M {class}." (Zhou et al., IJCV 2022)',
  kgcoop: 'CoOp plus a pull towards the hand-written prompt\'s text features, for unseen classes',
  prograd: 'CoOp whose gradient never contradicts zero-shot CLIP',
  cocoop: 'CoOp plus a small Meta-Net: every image shifts the context (conditional prompts, one text pass per image)',
  deep: 'context tokens at the input and at every text block (language-only deep prompting, IVLP)',
  tcp: 'class-aware tokens from the hand-written prompts\' features, put in at a middle block of the text tower',
  'dept-coop': 'CoOp with a separate linear head for the base classes (decoupled prompt tuning)',
  'dept-kgcoop': 'KgCoOp with DePT\'s separate linear head for the base classes',
  tip: 'a cache of the training images\' features beside zero-shot CLIP, no training',
  'tip-f': 'Tip-Adapter whose cache keys are fine-tuned for a few epochs',
  clap: 'a linear probe initialised from the zero-shot weights and held near them',
  lpp: 'a linear probe blended with the zero-shot text features (LP++)',
  taskres: 'a learned residual on the zero-shot classifier\'s weights',
  'clip-adapter': 'a small residual MLP on the image features',
});

const BATCH = (n: number) => `batch ${n}`;

/** "CoCoOp's official settings: 4 context words 'a photo of a', batch 1, 10 epochs, lr 0.002, SGD (source)". */
export function recipeSummary(m: Successor): string {
  const { settings: s, source } = SUCCESSOR_RECIPES[m];
  const parts: string[] = [];
  if (s.init === 'words' && s.initWords) parts.push(`${s.nCtx ?? s.initWords.split(/\s+/).length} context words '${s.initWords}'`);
  else parts.push(`${s.nCtx} random context vectors`);
  if (s.batchSize !== undefined) parts.push(BATCH(s.batchSize));
  if (s.epochs !== undefined) parts.push(`${s.epochs} epochs`);
  if (s.lr !== undefined) parts.push(`lr ${s.lr}`);
  parts.push(s.optimizer === 'adam' ? 'Adam' : 'SGD');
  const label = METHOD_LABELS[m];
  return `${label}${label.endsWith('s') ? "'" : "'s"} official settings: ${parts.join(', ')} (${source})`;
}

/** The recipe's keys, as the train store holds them (position lives beside the settings there). */
type RecipeKeys = Partial<TrainSettings>;

/** Picks a method; a successor applies its official recipe to the training settings. */
export function pickMethod(m: Method): void {
  const methods = useMethodStore.getState();
  const train = useTrainStore.getState();
  const before = methods.beforeRecipe;
  if (isSuccessor(m)) {
    const recipe = SUCCESSOR_RECIPES[m].settings;
    if (!before) {
      // Only the keys some recipe changes: the union over all successors, so switching between successors and back restores all.
      const keys = new Set(Object.values(SUCCESSOR_RECIPES).flatMap((r) => Object.keys(r.settings))) as Set<keyof TrainSettings>;
      const saved: Record<string, unknown> = {};
      for (const k of keys) saved[k] = train.settings[k];
      useMethodStore.setState({ beforeRecipe: { settings: saved as RecipeKeys, position: train.position } });
    }
    // Adam is explicit only for TCP; the others train with CoOp's SGD, written as the settings' default (absent).
    const { optimizer, position, ...rest } = recipe;
    const next: TrainSettings = { ...train.settings, ...rest };
    if (optimizer === 'adam') next.optimizer = 'adam';
    else delete next.optimizer;
    useTrainStore.setState({ settings: next, position: position ?? train.position });
  } else if (before) {
    const restored: TrainSettings = { ...train.settings, ...before.settings };
    if (before.settings.optimizer === undefined) delete restored.optimizer;
    useTrainStore.setState({ settings: restored, position: before.position });
    useMethodStore.setState({ beforeRecipe: null });
  }
  methods.setMethod(m);
}

/** The message shown when a successor meets class-specific context, or null. */
export function cscProblem(m: Method, csc: boolean): string | null {
  if (!csc || !isSuccessor(m)) return null;
  return `${METHOD_LABELS[m]} learns one context shared by every class: turn class-specific context (CSC) off in the settings to train it.`;
}
