import { describe, expect, it } from 'vitest';
import { planStep, formatBytes, type ModelShape } from '../../src/engine/plan';

const VIT_B32: ModelShape = { D: 512, L: 12, H: 8, V: 49408, E: 512, P: 77 };

describe('memory and work plan (no device)', () => {
  it('ViT-B/32 text tower, K=1000, M=16: ≤ 2 GB, and memory does not grow with K beyond a chunk', () => {
    const rows: string[] = [];
    for (const [csc, position] of [[false, 'end'], [false, 'middle'], [true, 'end'], [false, 'front']] as const) {
      const p = planStep({ shape: VIT_B32, K: 1000, M: 16, csc, position, nameLen: 4 });
      rows.push(
        `${csc ? 'csc' : 'unified'}-${position}: positions naive ${p.naivePositions} fast ${p.fastPositions} (T=${p.fast.T}, prefix ${p.fast.prefix}); ` +
          `flops naive ${(p.flopsNaive / 1e12).toFixed(2)} T fast ${(p.flopsFast / 1e12).toFixed(2)} T (${(p.flopsNaive / p.flopsFast).toFixed(1)}×, ${p.fast.recomputedChunks} of ${p.fast.chunks} chunks recomputed); ` +
          `peak fast ${formatBytes(p.peakBytes)} (${p.peakBytes} B), naive path ${formatBytes(p.naive.peakBytes)}`,
      );
      expect(p.peakBytes).toBeLessThanOrEqual(2e9);
      expect(p.naive.peakBytes).toBeLessThanOrEqual(2e9);
      const byGroup = new Map<string, number>();
      for (const b of p.buffers) byGroup.set(b.group, (byGroup.get(b.group) ?? 0) + b.bytes);
      rows.push(`   chunk ${p.fast.chunk} classes (naive path ${p.naive.chunk}); by group: ${[...byGroup].map(([g, n]) => `${g} ${formatBytes(n)}`).join(', ')}`);
    }
    console.log('[plan] ViT-B/32 text tower, K=1000, M=16, chunks sized to a 512 MiB activation budget, batch 32:\n' + rows.join('\n'));
    // Per-chunk memory is fixed: going from 1000 to 10000 classes adds only per-class vectors.
    const a = planStep({ shape: VIT_B32, K: 1000, M: 16, csc: false, position: 'end', chunk: 128 });
    const b = planStep({ shape: VIT_B32, K: 10000, M: 16, csc: false, position: 'end', chunk: 128 });
    const chunkBytes = (p: typeof a) => p.buffers.filter((x) => x.group === 'chunk').reduce((s, x) => s + x.bytes, 0);
    expect(chunkBytes(b)).toBe(chunkBytes(a));
  });

  it('counts positions as the design says: (M+1) + K·suffix for end, K·77 naive', () => {
    const p = planStep({ shape: VIT_B32, K: 8, M: 16, csc: false, position: 'end', chunk: 128, nameLen: 2 });
    expect(p.naivePositions).toBe(8 * 77);
    expect(p.fastPositions).toBe(17 + 8 * 4); // name (2), '.', EOS
    expect(p.fast.recomputedChunks).toBe(0);
  });
});
