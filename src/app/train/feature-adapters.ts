/**
 * The page's side of CLAP, LP++, TaskRes and CLIP-Adapter: the last setup's cached features (kept when Train sets a
 * run up) and one short-lived worker per fit (feature-adapter.worker.ts) running src/coop/adapter-methods.ts.
 */
import type { FeatureFitRequest, FeatureFitResult, FeatureMethod, LabelledSet } from '../../coop/adapter-methods';
import { subsetClasses } from '../../coop/base-to-new';
import type { FeatureFitReply } from './feature-adapter.worker';

/** What the feature-only methods fit on: the setup's views and clean training features, and its splits. */
export interface FeatureSetup {
  key: string;
  viewFeatures: Float32Array;
  nViews: number;
  dim: number;
  train: { features: Float32Array; labels: Int32Array };
  nClasses: number;
  evalSets: LabelledSet[];
  baseClasses: number[] | null;
}

let last: FeatureSetup | null = null;

export function keepFeatureSetup(s: FeatureSetup): void {
  last = s;
}

export function featureSetup(): FeatureSetup | null {
  return last;
}

/** A 'val' split picks LP++'s epoch; base-to-new: its base-class images, labelled among the base classes. */
function valOf(s: FeatureSetup): LabelledSet | null {
  const v = s.evalSets.find((e) => e.name === 'val');
  if (!v) return null;
  return s.baseClasses ? subsetClasses(v, s.baseClasses, s.dim) : v;
}

export function fitFeatureMethod(method: FeatureMethod, s: FeatureSetup, zeroShotText: Float32Array, seed: number): Promise<FeatureFitResult> {
  const req: FeatureFitRequest = {
    method,
    input: {
      viewFeatures: s.viewFeatures,
      nImages: s.train.labels.length,
      nViews: s.nViews,
      dim: s.dim,
      labels: s.train.labels,
      nClasses: s.nClasses,
      cleanFeatures: s.train.features,
      text: zeroShotText,
      shots: Math.floor(s.train.labels.length / Math.max(1, s.nClasses)),
      seed,
      val: valOf(s),
    },
    evalSets: s.evalSets,
    baseClasses: s.baseClasses,
  };
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./feature-adapter.worker.ts', import.meta.url), { type: 'module', name: `coop-${method}` });
    worker.onmessage = ({ data }: MessageEvent<FeatureFitReply>) => {
      worker.terminate();
      if (data.ok) resolve(data.result);
      else reject(new Error(data.error));
    };
    worker.onerror = (e) => {
      worker.terminate();
      reject(new Error(`The ${method} worker failed: ${e.message}`));
    };
    worker.postMessage(req);
  });
}
