import { describe, expect, it } from 'vitest';
import { choosePath, forcedPath, formatRate, timeProbe } from '../../src/engine/choose-path';

const labels = { gpu: 'WebGPU EP', cpu: 'WASM EP' };
const unit = 'images/s';

describe('choosePath: the faster path by measurement', () => {
  it('takes the higher measured rate either way, and names both', () => {
    const slowGpu = choosePath({ labels, unit, rates: { gpu: { perSecond: 2.1 }, cpu: { perSecond: 270 } } });
    expect(slowGpu.choice).toBe('cpu');
    expect(slowGpu.reason).toContain('WASM EP measured faster');
    expect(slowGpu.reason).toContain('WebGPU EP 2.10, WASM EP 270 images/s');
    expect(slowGpu.summary).toBe('WASM EP 270 images/s (WebGPU EP 2.10)');
    const fastGpu = choosePath({ labels, unit, rates: { gpu: { perSecond: 900 }, cpu: { perSecond: 270 } } });
    expect(fastGpu.choice).toBe('gpu');
    expect(fastGpu.rates.cpu?.perSecond).toBe(270);
  });

  it('a fallback adapter gives the CPU path even when its probe looked faster', () => {
    const c = choosePath({ labels, unit, fallbackAdapter: true, adapter: 'google swiftshader', rates: { gpu: { perSecond: 50 }, cpu: { perSecond: 40 } } });
    expect(c.choice).toBe('cpu');
    expect(c.reason).toMatch(/software fallback adapter/);
    expect(c.reason).toContain('google swiftshader');
  });

  it('a forced path wins over every probe; an unavailable GPU gives the CPU', () => {
    expect(choosePath({ labels, unit, forced: { path: 'gpu', by: '?ep=webgpu' }, fallbackAdapter: true, rates: { gpu: { perSecond: 1 }, cpu: { perSecond: 9 } } }).choice).toBe('gpu');
    expect(choosePath({ labels, unit, forced: { path: 'cpu', by: '?ep=wasm' }, rates: {} }).reason).toContain('?ep=wasm');
    const none = choosePath({ labels, unit, gpuUnavailable: 'no adapter', rates: {} });
    expect(none.choice).toBe('cpu');
    expect(none.reason).toContain('no adapter');
  });

  it('a failed probe loses; a cut-short probe shows as an upper bound', () => {
    expect(choosePath({ labels, unit, rates: { gpu: { note: 'failed: boom' }, cpu: { perSecond: 3 } } }).choice).toBe('cpu');
    expect(choosePath({ labels, unit, rates: { gpu: { perSecond: 3 }, cpu: { note: 'failed' } } }).choice).toBe('gpu');
    expect(formatRate({ perSecond: 0.25, atMost: true })).toBe('≤ 0.25');
  });

  it('forcedPath reads the URL values', () => {
    expect(forcedPath('cpu')).toBe('cpu');
    expect(forcedPath('wasm')).toBe('cpu');
    expect(forcedPath('webgpu')).toBe('gpu');
    expect(forcedPath('gpu')).toBe('gpu');
    expect(forcedPath('auto')).toBeUndefined();
    expect(forcedPath(null)).toBeUndefined();
  });
});

describe('timeProbe', () => {
  it('times the run after its warm-ups and gives items per second', async () => {
    let t = 0;
    let calls = 0;
    const r = await timeProbe(
      async () => {
        calls++;
        t += calls === 1 ? 500 : 100; // warm-up 500 ms, timed run 100 ms
      },
      { items: 8, warmups: 1, now: () => t },
    );
    expect(calls).toBe(2);
    expect(r.ms).toBe(100);
    expect(r.perSecond).toBeCloseTo(80);
    expect(r.atMost).toBeUndefined();
  });

  it('stops waiting at its cap (an upper bound) and reports failures as notes', async () => {
    let release!: () => void;
    const never = new Promise<void>((r) => (release = r));
    const cut = await timeProbe(() => never, { items: 1, warmups: 0, capMs: 30 });
    expect(cut.atMost).toBe(true);
    expect(cut.perSecond).toBeLessThan(1000 / 25);
    release();
    await cut.settled;
    const failed = await timeProbe(() => Promise.reject(new Error('no device')), { items: 1 });
    expect(failed.perSecond).toBeUndefined();
    expect(failed.note).toContain('no device');
  });
});
