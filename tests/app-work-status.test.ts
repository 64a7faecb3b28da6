import { describe, expect, it } from 'vitest';
import { choosePath } from '../src/engine/choose-path';
import { encodingWords, plainReason, trainingThreads, trainingWords, wasmThreads } from '../src/app/shell/work-status';

// The choices come from the real rule, so a change of its reason sentences shows here.
const EP = { gpu: 'WebGPU EP', cpu: 'WASM EP' };
const ENGINE = { gpu: 'WGSL engine', cpu: 'CPU twin' };

describe('the status line in plain words', () => {
  it('says why the CPU, without internal names', () => {
    const software = choosePath({ labels: EP, unit: 'images/s', fallbackAdapter: true, adapter: 'google swiftshader', rates: { gpu: { note: 'not probed' }, cpu: { perSecond: 74.2 } } });
    const line = encodingWords({ ep: 'wasm', choice: software }, 2);
    expect(line).toBe("Encoding on the CPU, 2 threads: this browser's GPU is a software one · 74.2 images/s");
    expect(line).not.toMatch(/EP|twin|probe|WASM|swiftshader/i);

    const asked = choosePath({ labels: ENGINE, unit: 'steps/s', forced: { path: 'cpu', by: '?engine=cpu' }, rates: {} });
    expect(plainReason(asked)).toBe('as asked (?engine=cpu)');
    const none = choosePath({ labels: ENGINE, unit: 'steps/s', gpuUnavailable: 'no WebGPU in this browser', rates: {} });
    expect(plainReason(none)).toBe('no usable GPU in this browser');
    const faster = choosePath({ labels: ENGINE, unit: 'steps/s', adapter: 'x', rates: { gpu: { perSecond: 1 }, cpu: { perSecond: 6 } } });
    expect(plainReason(faster)).toBe('faster than the GPU here');
    const failed = choosePath({ labels: ENGINE, unit: 'steps/s', rates: { gpu: { note: 'threw' }, cpu: { perSecond: 6 } } });
    expect(plainReason(failed)).toBe('the GPU failed its test run');
    const gpu = choosePath({ labels: ENGINE, unit: 'steps/s', rates: { gpu: { perSecond: 60 }, cpu: { perSecond: 6 } } });
    expect(plainReason(gpu)).toBeNull();
    expect(trainingWords({ kind: 'webgpu', detail: 'WGSL', choice: gpu })).toBe('Training on the GPU · 60.0 steps/s');
  });

  it('prefers the live rate and reads the thread count from the worker or its detail', () => {
    const software = choosePath({ labels: ENGINE, unit: 'steps/s', fallbackAdapter: true, rates: { gpu: { note: 'not probed' }, cpu: { perSecond: 3 } } });
    const info = { kind: 'cpu' as const, detail: 'CPU twin (JavaScript, 2 threads): …', choice: software };
    expect(trainingWords(info, 10.64)).toBe("Training on the CPU, 2 threads: this browser's GPU is a software one · 10.6 steps/s");
    expect(trainingWords(info)).toBe("Training on the CPU, 2 threads: this browser's GPU is a software one · 3.00 steps/s");
    expect(trainingThreads({ ...info, threads: 4 })).toBe(4);
    expect(trainingThreads({ kind: 'cpu', detail: 'CPU twin (JavaScript): x' })).toBe(1);
    expect(trainingThreads({ kind: 'webgpu', detail: '' })).toBeNull();
    expect(trainingWords(null)).toMatch(/picked on the first Train/);
    expect(encodingWords({ ep: 'webgpu' }, 4, 120)).toBe('Encoding on the GPU · 120 images/s');
    expect(encodingWords({ ep: 'wasm' }, 1)).toBe('Encoding on the CPU, 1 thread');
    expect(wasmThreads(true, 16)).toBe(16);
    expect(wasmThreads(true, 32)).toBe(16);
    expect(wasmThreads(true, 2)).toBe(2);
    expect(wasmThreads(false, 8)).toBe(1);
    expect(wasmThreads(true, 8, '1')).toBe(1);
    expect(wasmThreads(true, 8, 'x')).toBe(8);
    expect(wasmThreads(false, 8, '4')).toBe(1);
  });
});
