import { describe, expect, it } from 'vitest';
import { nearestTokens } from '../../src/coop/nearest-tokens';

// Five tokens on a line in 2-D: token t sits at (t, 0).
const table = Float32Array.of(0, 0, 1, 0, 2, 0, 3, 0, 4, 0);
const name = (id: number) => ['a</w>', 'photo</w>', 'of</w>', 'the</w>', 'x</w>'][id];

describe('nearest tokens', () => {
  it('unified: top-k by Euclidean distance, sorted', () => {
    const ctx = { data: Float32Array.of(2.2, 0, 0, 3), nCtx: 2, dim: 2, cscClasses: 0 };
    const nn = nearestTokens(ctx, table, name, 3);
    expect(nn).toHaveLength(1);
    expect(nn[0][0].map((n) => n.id)).toEqual([2, 3, 1]);
    expect(nn[0][0].map((n) => +n.distance.toFixed(5))).toEqual([0.2, 0.8, 1.2]);
    expect(nn[0][0][0].token).toBe('of</w>');
    // (0, 3): distances √9, √10, √13 to tokens 0, 1, 2
    expect(nn[0][1].map((n) => n.id)).toEqual([0, 1, 2]);
    expect(nn[0][1][1].distance).toBeCloseTo(Math.sqrt(10), 6);
  });

  it('CSC: one list per class and vector; ties keep the lower id; k is capped by the vocabulary', () => {
    const ctx = { data: Float32Array.of(0.5, 0, 4, 0), nCtx: 1, dim: 2, cscClasses: 2 };
    const nn = nearestTokens(ctx, table, name, 10);
    expect(nn).toHaveLength(2);
    expect(nn[0][0].map((n) => n.id)).toEqual([0, 1, 2, 3, 4]);
    expect(nn[1][0][0]).toEqual({ id: 4, token: 'x</w>', distance: 0 });
  });
});
