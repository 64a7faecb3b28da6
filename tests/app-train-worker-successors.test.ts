/**
 * The successors in the worker: CoCoOp, deep prompts, TCP and DePT (on CoOp and KgCoOp) set up, train through the
 * one loop with their extras, and score base-to-new (new classes with the same learned tensors; TCP's new classes
 * through its MLP on their own hand-written features). The toy CLIP on the CPU engine, one short epoch each.
 */
import { describe, expect, it } from 'vitest';
import type { WorkerReply } from '../src/worker/protocol';
import { TrainSession } from '../src/worker/train-session';
import { CpuTextEngine } from '../src/worker/cpu-text-engine';
import { withDefaults } from '../src/coop/settings';
import { DEFAULT_METHOD_SETTINGS } from '../src/coop/method-settings';
import { SUCCESSORS } from '../src/coop/prompt-learner';
import { toyClipWeights, toyClipManifest } from './engine/dumps';

describe('training session: the successors, base-to-new', () => {
  const weights = toyClipWeights();
  const E = weights.config.E;
  const T = 77;
  const nameIds = [10, 20, 30, 40];
  const promptIds = (names: number[], M: number) => {
    const ids = new Int32Array(names.length * T);
    names.forEach((n, k) => ids.set([weights.config.V - 2, ...Array(M).fill(1), n, 13, weights.config.V - 1], k * T));
    return { ids, contextLength: T, nameLens: names.map(() => 1) };
  };
  const unit = (v: number[]) => {
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  };
  const split = { base: [0, 2], new: [1, 3] };
  const N = 4;
  const trainLabels = Int32Array.from({ length: N }, (_, i) => i % 2);
  const views = Float32Array.from(Array.from({ length: N * 2 }, (_, j) => unit(Array.from({ length: E }, (_, e) => Math.sin(e * (1 + trainLabels[j >> 1]) + j)))).flat());
  const clean = Float32Array.from(Array.from({ length: N }, (_, i) => Array.from(views.subarray(i * 2 * E, i * 2 * E + E))).flat());
  const testLabels = Int32Array.from({ length: 8 }, (_, i) => i % 4);
  const test = Float32Array.from(Array.from({ length: 8 }, (_, i) => unit(Array.from({ length: E }, (_, e) => Math.cos(e * (1 + testLabels[i]) + i)))).flat());
  const hand = (classes: number[]) => Float32Array.from(classes.flatMap((c) => unit(Array.from({ length: E }, (_, e) => Math.cos(e * (c + 2))))));

  for (const name of SUCCESSORS) {
    it(`${name}: trains with its extras and scores base and new classes`, async () => {
      const replies: WorkerReply[] = [];
      const session = new TrainSession((r) => replies.push(r), async () => new CpuTextEngine({ weights, logitScale: toyClipManifest().logit_scale }));
      await session.handle({ type: 'init', textModelUrl: '', config: {}, logitScale: 20, preferGpu: false });
      const M = 4;
      await session.handle({
        type: 'setup',
        settings: withDefaults({ nCtx: M, epochs: 1, batchSize: 2, lr: 0.01, warmupEpochs: 0, views: 2, ...(name === 'tcp' ? { optimizer: 'adam' as const } : {}) }),
        position: 'end',
        prompts: promptIds(split.base.map((c) => nameIds[c]), M),
        initWordIds: null,
        context: null,
        viewFeatures: views,
        nViews: 2,
        labels: trainLabels,
        nClasses: 2,
        trainFeatures: clean,
        evalSets: [{ name: 'test', features: test, labels: testLabels }],
        method: { name, settings: DEFAULT_METHOD_SETTINGS, handWritten: hand(split.base), handWrittenNew: hand(split.new) },
        baseToNew: { split, newPrompts: promptIds(split.new.map((c) => nameIds[c]), M) },
      });
      const errors = replies.filter((r) => r.type === 'error');
      expect(errors).toEqual([]);
      await session.handle({ type: 'train' });
      expect(replies.filter((r) => r.type === 'error')).toEqual([]);
      const steps = replies.flatMap((r) => (r.type === 'event' && r.event.type === 'step' ? [r.event] : []));
      expect(steps).toHaveLength(2);
      expect(steps.every((s) => Number.isFinite(s.loss))).toBe(true);
      const snap = session.snapshot!;
      expect(snap.context.extras?.length).toBeGreaterThan(0);
      expect(snap.checkpoint?.epoch).toBe(1);
      expect(Object.keys(snap.accuracies).sort()).toEqual(['test/base', 'test/new', 'train']);
      expect(snap.predictions['test/new']).toHaveLength(4);
      expect(snap.textFeatures).toHaveLength(2 * E);
      // Nearest words: the input context's for every successor; deep prompts add each block's own tokens.
      await session.handle({ type: 'nearest', k: 3 });
      const near = [...replies].reverse().find((r) => r.type === 'nearest');
      expect(near).toMatchObject({ sets: 1, nCtx: M, k: 3 });
      if (near?.type !== 'nearest') throw new Error('no nearest reply');
      const deepBlocks = snap.context.extras!.filter((p) => p.name.startsWith('deep_ctx.')).length;
      expect(near.blocks?.length ?? 0).toBe(deepBlocks);
      if (name === 'deep') {
        expect(deepBlocks).toBeGreaterThan(0);
        expect(near.blocks!.map((b) => b.block)).toEqual(near.blocks!.map((_b, i) => i + 1));
        for (const b of near.blocks!) expect([b.nCtx, b.ids.length, b.distances.length]).toEqual([M, M * 3, M * 3]);
      }
    }, 60_000);
  }
});
