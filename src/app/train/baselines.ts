/**
 * The reference lines CoOp is drawn against (CoOp §4.1), measured on the same images before training: zero-shot
 * CLIP with "a photo of a {}." and prompt ensembling over the app's templates, both through the model's own text
 * tower on the page. The linear probe runs in the worker (it is CPU-heavy); its numbers join these.
 */
import { baseToNewAccuracies, pickRows, type ClassSplit, type Predictor } from '../../coop/base-to-new';
import { argmaxRows, scoreAccuracy } from '../../coop/metrics';
import { zeroShotLogits } from '../../coop/zero-shot';
import type { ModelRuntime } from '../store/model-store';
import { classFeatures } from '../zero-shot/text-features';
import { DEFAULT_TEMPLATE, TEMPLATES } from '../zero-shot/templates';
import { promptName } from './class-cards';

export interface LabelledFeatures {
  name: string;
  features: Float32Array;
  labels: Int32Array;
}

export interface HandPrompt {
  /** Normalized [K, E] class features (base-to-new: of the base classes, the ones that train). */
  text: Float32Array;
  /** Accuracy per split, in [0, 1]. */
  accuracy: Record<string, number>;
}

export interface HandBaselines {
  zeroShot: HandPrompt;
  ensemble: HandPrompt;
}

function score(text: Float32Array, sets: readonly LabelledFeatures[], dim: number, k: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of sets) if (s.labels.length) out[s.name] = scoreAccuracy(zeroShotLogits(s.features, text, dim, 1), s.labels, k);
  return out;
}

/**
 * `sets` have labels over all `names`. With `split` (base-to-new, src/coop/base-to-new.ts) the set named 'train'
 * holds base-class images labelled by base position and is scored among the base classes; every other set is scored
 * per part (`${set}/base` among the base classes, `${set}/new` among the new ones), as the command line does.
 */
export async function handBaselines(runtime: ModelRuntime, names: readonly string[], sets: readonly LabelledFeatures[], split: ClassSplit | null = null): Promise<HandBaselines> {
  const dim = runtime.model.manifest.embed_dim;
  const clean = names.map(promptName);
  const tok = runtime.model.tokenizer;
  const zs = await classFeatures(runtime.encoders.text, tok, clean, [DEFAULT_TEMPLATE]);
  const en = await classFeatures(runtime.encoders.text, tok, clean, TEMPLATES);
  if (!split) {
    return {
      zeroShot: { text: zs, accuracy: score(zs, sets, dim, names.length) },
      ensemble: { text: en, accuracy: score(en, sets, dim, names.length) },
    };
  }
  const byText = (text: Float32Array): Predictor => (f, n) => argmaxRows(zeroShotLogits(f, text, dim, 1), n, text.length / dim);
  const part = (all: Float32Array): HandPrompt => {
    const base = pickRows(all, split.base, dim);
    const train = sets.filter((s) => s.name === 'train');
    return {
      text: base,
      accuracy: { ...score(base, train, dim, split.base.length), ...baseToNewAccuracies(sets.filter((s) => s.name !== 'train'), split, dim, byText(base), byText(pickRows(all, split.new, dim))) },
    };
  };
  return { zeroShot: part(zs), ensemble: part(en) };
}
