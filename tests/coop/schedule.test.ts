import { describe, expect, it } from 'vitest';
import { epochsForShots, lrAtEpoch, lrCurve, resolveEpochs } from '../../src/coop/schedule';
import { DEFAULT_TRAIN_SETTINGS, withDefaults } from '../../src/coop/settings';

describe('schedule', () => {
  it('epochs by shots as the original configs', () => {
    expect([1, 2, 4, 8, 16, 32].map(epochsForShots)).toEqual([50, 100, 100, 200, 200, 200]);
    expect(resolveEpochs({ epochs: 'auto' }, 8 * 4, 8)).toBe(100);
    expect(resolveEpochs({ epochs: 'auto' }, 8 * 1 + 3, 8)).toBe(50); // 11 // 8 = 1 shot
    expect(resolveEpochs({ epochs: 7 }, 100, 8)).toBe(7);
  });

  it('warmup then cosine from epoch 1, hand-computed at 50 epochs', () => {
    const s = DEFAULT_TRAIN_SETTINGS;
    expect(lrAtEpoch(0, 50, s)).toBe(1e-5);
    expect(lrAtEpoch(1, 50, s)).toBeCloseTo(0.002, 12); // cos(0) = 1
    expect(lrAtEpoch(26, 50, s)).toBeCloseTo(0.001, 12); // cos(π/2) = 0
    // epoch 49: 0.001·(1 + cos(0.96π)) = 0.001·(1 − 0.9921147013) = 7.885299e-6
    expect(lrAtEpoch(49, 50, s)).toBeCloseTo(7.885299e-6, 11);
  });

  it('takes edited values', () => {
    const s = withDefaults({ lr: 0.01, warmupEpochs: 3, warmupLr: 1e-4 });
    expect(lrCurve(10, s).slice(0, 4)).toEqual([1e-4, 1e-4, 1e-4, 0.01]);
    expect(lrAtEpoch(8, 10, s)).toBeCloseTo(0.005 * (1 + Math.cos(Math.PI / 2)), 12);
    expect(lrAtEpoch(0, 10, withDefaults({ warmupEpochs: 0 }))).toBeCloseTo(0.002, 12);
  });

  it('defaults are the brief\'s', () => {
    expect(DEFAULT_TRAIN_SETTINGS).toEqual({
      nCtx: 16, csc: false, position: 'end', init: 'random', initWords: 'a photo of a', lr: 0.002, momentum: 0.9,
      weightDecay: 5e-4, batchSize: 32, warmupEpochs: 1, warmupLr: 1e-5, epochs: 'auto', views: 8, seed: 1,
    });
  });
});
