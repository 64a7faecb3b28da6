import { afterAll, describe, expect, it } from 'vitest';
import { deepTokensCollectCpu, deepTokensReplaceCpu, type DeepTokenDims } from '../../src/engine/ops/deep-tokens/cpu';
import { encodeDeepTokensCollect, encodeDeepTokensReplace } from '../../src/engine/ops/deep-tokens/gpu';
import { GpuAllocator } from '../../src/engine/gpu/allocator';
import { getTestDevice, GPU_ENV_HINT } from '../helpers/webgpu';
import { f32, randn } from '../helpers/random';
import { maxAbsDiff, report } from '../helpers/compare';
import { runAndRead, uploadF32 } from '../helpers/buffers';

describe('deep tokens (CPU twin)', () => {
  it('replace writes positions 1..M of the run; collect sums a shared token over rows and zeroes dX there', () => {
    const g: DeepTokenDims = { b: 2, s: 4, d: 1, m: 2, offset: 0, r0: 0, perRow: false };
    const x = Float64Array.from({ length: 8 }, (_, i) => 10 + i);
    deepTokensReplaceCpu(x, Float64Array.from([7, 8]), g);
    expect(Array.from(x)).toEqual([10, 7, 8, 13, 14, 7, 8, 17]);
    const dx = Float64Array.from({ length: 8 }, (_, i) => i);
    const grad = new Float64Array(2);
    deepTokensCollectCpu(dx, grad, g);
    expect(Array.from(grad)).toEqual([1 + 5, 2 + 6]);
    expect(Array.from(dx)).toEqual([0, 0, 0, 3, 4, 0, 0, 7]);
  });

  it('a run after a prefix sees only the positions past its offset; per-row tokens are read at r0 + b', () => {
    // Offset 2: the run holds absolute positions 2..4; with M = 3, positions 2 and 3 are replaced (s = 0, 1).
    const g: DeepTokenDims = { b: 2, s: 3, d: 1, m: 3, offset: 2, r0: 1, perRow: true };
    const tokens = Float64Array.from({ length: 3 * 3 }, (_, i) => 100 + i); // rows 0..2, 3 tokens each
    const x = new Float64Array(6);
    deepTokensReplaceCpu(x, tokens, g);
    expect(Array.from(x)).toEqual([104, 105, 0, 107, 108, 0]);
  });
});

const device = await getTestDevice();
if (!device) console.warn(`deep-tokens GPU tests skipped. ${GPU_ENV_HINT}`);

describe.skipIf(!device)('deep tokens (WGSL vs CPU twin)', () => {
  const dev = device!;
  const alloc = device ? new GpuAllocator(dev) : (undefined as unknown as GpuAllocator);
  afterAll(() => alloc?.destroyAll());
  for (const perRow of [false, true]) {
    for (const offset of [0, 3]) {
      it(`${perRow ? 'per-row' : 'shared'} tokens, run offset ${offset}: replace and collect are exact`, async () => {
        const g: DeepTokenDims = { b: 5, s: 7, d: 37, m: 4, offset, r0: 2, perRow };
        const R = 9;
        const tokens = f32(randn((perRow ? R : 1) * g.m * g.d, 1));
        const x = f32(randn(g.b * g.s * g.d, 2));
        const dx = f32(randn(g.b * g.s * g.d, 3));
        const grad = f32(randn(tokens.length, 4));
        const bt = uploadF32(alloc, tokens), bx = uploadF32(alloc, x), bdx = uploadF32(alloc, dx), bg = uploadF32(alloc, grad);
        const [gx, gdx, gg] = await runAndRead(
          dev,
          (p) => {
            encodeDeepTokensReplace(dev, p, { tokens: bt, x: bx }, g);
            encodeDeepTokensCollect(dev, p, { dx: bdx, grad: bg }, g);
          },
          [bx, bdx, bg],
        );
        const wx = Float64Array.from(x), wdx = Float64Array.from(dx), wg = Float64Array.from(grad);
        deepTokensReplaceCpu(wx, tokens, g);
        deepTokensCollectCpu(wdx, wg, g);
        expect(maxAbsDiff(gx, wx)).toBe(0);
        expect(maxAbsDiff(gdx, wdx)).toBe(0);
        expect(report(`deep tokens ${perRow ? 'per-row' : 'shared'} offset ${offset} grad`, maxAbsDiff(gg, wg))).toBeLessThan(1e-5);
      });
    }
  }
});
