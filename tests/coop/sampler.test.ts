import { describe, expect, it } from 'vitest';
import { batchesPerEpoch, epochPlan, gatherBatch } from '../../src/coop/sampler';

describe('sampler', () => {
  it('drops the last partial batch when there is a full one (Dassl)', () => {
    expect(batchesPerEpoch(128, 32)).toBe(4);
    expect(batchesPerEpoch(100, 32)).toBe(3);
    expect(batchesPerEpoch(32, 32)).toBe(1);
    expect(batchesPerEpoch(8, 32)).toBe(1);
    const plan = epochPlan({ nImages: 100, nViews: 8, batchSize: 32, seed: 1, epoch: 0 });
    expect(plan.map((b) => b.images.length)).toEqual([32, 32, 32]);
    const seen = new Set(plan.flatMap((b) => [...b.images]));
    expect(seen.size).toBe(96); // distinct images; 4 left out this epoch
  });

  it('a set smaller than a batch trains as one smaller batch with every image', () => {
    const [b] = epochPlan({ nImages: 8, nViews: 8, batchSize: 32, seed: 1, epoch: 3 });
    expect([...b.images].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect([...b.views].every((v) => v >= 0 && v < 8)).toBe(true);
  });

  it('reshuffles and redraws views each epoch, reproducibly', () => {
    const opts = { nImages: 64, nViews: 8, batchSize: 32, seed: 5 };
    const e0 = epochPlan({ ...opts, epoch: 0 });
    const e1 = epochPlan({ ...opts, epoch: 1 });
    expect(e0[0].images).not.toEqual(e1[0].images);
    expect(epochPlan({ ...opts, epoch: 1 })).toEqual(e1);
    expect(epochPlan({ ...opts, seed: 6, epoch: 1 })).not.toEqual(e1);
    // Views are spread over all 8 across epochs.
    const counts = new Array(8).fill(0);
    for (let e = 0; e < 50; e++) for (const b of epochPlan({ ...opts, epoch: e })) for (const v of b.views) counts[v]++;
    expect(Math.min(...counts)).toBeGreaterThan(300);
  });

  it('gathers [B, E] features from [N, V, E] and their labels', () => {
    const n = 3, v = 2, e = 2;
    const feats = Float32Array.from({ length: n * v * e }, (_, i) => i);
    const g = gatherBatch({ images: Int32Array.of(2, 0), views: Int32Array.of(1, 0) }, feats, v, e, [7, 8, 9]);
    expect([...g.features]).toEqual([10, 11, 0, 1]);
    expect([...g.labels]).toEqual([9, 7]);
  });
});
