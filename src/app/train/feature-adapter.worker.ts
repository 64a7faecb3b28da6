/// <reference lib="webworker" />
import { fitAndScore, type FeatureFitRequest, type FeatureFitResult } from '../../coop/adapter-methods';

export type FeatureFitReply = { ok: true; result: FeatureFitResult } | { ok: false; error: string };

// CLAP, LP++, TaskRes and CLIP-Adapter take seconds on a large model's features: off the page's thread, and apart
// from the training worker (src/worker/), which keeps its own state.
self.onmessage = ({ data }: MessageEvent<FeatureFitRequest>) => {
  try {
    self.postMessage({ ok: true, result: fitAndScore(data) } satisfies FeatureFitReply);
  } catch (e) {
    self.postMessage({ ok: false, error: (e as Error).message } satisfies FeatureFitReply);
  }
};
