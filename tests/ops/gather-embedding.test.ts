import { afterAll, describe, expect, it } from 'vitest';
import { embeddingForwardCpu } from '../../src/engine/ops/embedding/cpu';
import { encodeEmbeddingForward } from '../../src/engine/ops/embedding/gpu';
import { gatherRowsBackwardCpu, gatherRowsForwardCpu } from '../../src/engine/ops/gather/cpu';
import { encodeGatherRowsBackward, encodeGatherRowsForward } from '../../src/engine/ops/gather/gpu';
import { GpuAllocator } from '../../src/engine/gpu/allocator';
import { getTestDevice, GPU_ENV_HINT } from '../helpers/webgpu';
import { f32, randInts, randn } from '../helpers/random';
import { gradCheck } from '../helpers/gradcheck';
import { maxAbsDiff, report } from '../helpers/compare';
import { runAndRead, uploadF32, uploadU32, zerosF32 } from '../helpers/buffers';

describe('embedding / gatherRows (CPU twins)', () => {
  it('embedding picks table rows and offset positional rows', () => {
    const [V, d, b, t, off] = [5, 3, 2, 2, 4];
    const table = Float64Array.from({ length: V * d }, (_, i) => i);
    const pos = Float64Array.from({ length: 8 * d }, (_, i) => 1000 * i);
    const out = embeddingForwardCpu(table, pos, [4, 0, 2, 1], { b, t, d, posOffset: off });
    expect(out[0]).toBe(12 + 1000 * 12); // id 4, position 4
    expect(out[d]).toBe(0 + 1000 * 15); // id 0, position 5
  });

  it('gatherRows backward matches central differences (Float64)', () => {
    const [b, t, d] = [3, 5, 4];
    const idx = [4, 0, 2];
    const { relErrors } = gradCheck(
      [randn(b * t * d, 1)],
      ([x]) => gatherRowsForwardCpu(x, idx, b, t, d),
      (_, dOut) => [gatherRowsBackwardCpu(dOut, idx, b, t, d)],
    );
    expect(report('gatherRows cpu dX vs FD', relErrors[0])).toBeLessThan(1e-8);
  });
});

const device = await getTestDevice();
if (!device) console.warn(`embedding/gather GPU tests skipped. ${GPU_ENV_HINT}`);

describe.skipIf(!device)('embedding / gatherRows (WGSL vs CPU)', () => {
  const dev = device!;
  const alloc = device ? new GpuAllocator(dev) : (undefined as unknown as GpuAllocator);
  afterAll(() => alloc?.destroyAll());

  it('embedding B=3 T=19 D=37 posOffset=7; gather fwd/bwd B=3 T=19 D=37 (exact copies)', async () => {
    const [V, b, t, d, off] = [29, 3, 19, 37, 7];
    const table = f32(randn(V * d, 1)), pos = f32(randn((off + t) * d, 2));
    const ids = randInts(b * t, V, 3);
    const x = f32(randn(b * t * d, 4)), dOut = f32(randn(b * d, 5));
    const idx = Uint32Array.from([18, 0, 9]);
    const bt = uploadF32(alloc, table), bp = uploadF32(alloc, pos), bids = uploadU32(alloc, ids), be = zerosF32(alloc, b * t * d);
    const bx = uploadF32(alloc, x), bidx = uploadU32(alloc, idx), bg = zerosF32(alloc, b * d), bdo = uploadF32(alloc, dOut);
    // Pre-filled with garbage: backward must overwrite every element, not just the gathered rows.
    const bdx = uploadF32(alloc, randn(b * t * d, 6));
    const [emb, g, dx] = await runAndRead(
      dev,
      (p) => {
        encodeEmbeddingForward(dev, p, { table: bt, pos: bp, ids: bids, out: be }, { b, t, d, posOffset: off });
        encodeGatherRowsForward(dev, p, { x: bx, idx: bidx, out: bg }, { b, t, d });
        encodeGatherRowsBackward(dev, p, { dOut: bdo, idx: bidx, dx: bdx }, { b, t, d });
      },
      [be, bg, bdx],
    );
    expect(report('embedding fwd', maxAbsDiff(emb, embeddingForwardCpu(table, pos, ids, { b, t, d, posOffset: off })))).toBeLessThan(1e-6);
    expect(maxAbsDiff(g, gatherRowsForwardCpu(x, idx, b, t, d))).toBe(0);
    expect(maxAbsDiff(dx, gatherRowsBackwardCpu(dOut, idx, b, t, d))).toBe(0);
  });
});
