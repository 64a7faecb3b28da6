import { describe, expect, it } from 'vitest';
import { adamStep, cloneAdamState, createAdamState } from '../../src/coop/adam';
import { loadFixture } from '../helpers/fixture';

/**
 * Largest difference in units of float32 spacing (ulp) at the tensor's scale (its largest magnitude): an update
 * that crosses zero leaves a result far smaller than its operands, whose rounding is on the operands' scale.
 */
function maxUlps(got: Float32Array, want: Float32Array): number {
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  const ulp = Math.max(scale * 2 ** -23, 2 ** -149);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / ulp);
  return worst;
}

describe('Adam (torch.optim.Adam, as Dassl builds it)', () => {
  // tools/toy-clip/adam_dump.py: two tensors in two groups (the second at 6.5× the lr), seven steps of a schedule.
  const fx = loadFixture('methods/adam.bin');
  const lrs = fx.meta.lrs as number[];
  const wd = fx.meta.weight_decay as number;
  const scaleB = fx.meta.lr_scale_b as number;

  it('follows PyTorch step by step: parameters, both moments and the step count', () => {
    const a = fx.f32('a0').slice();
    const b = fx.f32('b0').slice();
    const na = a.length;
    const nb = b.length;
    const sa = createAdamState();
    const sb = createAdamState();
    const pa = fx.f32('params_a');
    const pb = fx.f32('params_b');
    let worst = 0;
    lrs.forEach((lr, t) => {
      adamStep(a, fx.f32('grad_a').subarray(t * na, (t + 1) * na), sa, lr, { weightDecay: wd });
      adamStep(b, fx.f32('grad_b').subarray(t * nb, (t + 1) * nb), sb, lr * scaleB, { weightDecay: wd });
      worst = Math.max(worst, maxUlps(a, pa.subarray(t * na, (t + 1) * na)), maxUlps(b, pb.subarray(t * nb, (t + 1) * nb)));
    });
    // fp32 storage with double arithmetic per element, against PyTorch's fp32 ops: measured 0.39 ulp (at the tensor's scale) after seven steps.
    expect(worst).toBeLessThan(2);
    expect(sa.step).toBe(fx.i32('step')[0]);
    expect(maxUlps(sa.expAvg!, fx.f32('exp_avg_a'))).toBeLessThan(2);
    expect(maxUlps(sa.expAvgSq!, fx.f32('exp_avg_sq_a'))).toBeLessThan(2);
    expect(maxUlps(sb.expAvg!, fx.f32('exp_avg_b'))).toBeLessThan(2);
    expect(maxUlps(sb.expAvgSq!, fx.f32('exp_avg_sq_b'))).toBeLessThan(2);
  });

  it('first step moves every element by about lr (bias correction), and weight decay enters the gradient', () => {
    // t = 1: m̂ = d, v̂ = d², so the step is lr·d/(|d| + ε) ≈ lr·sign(d) whatever the gradient's scale.
    const p = Float32Array.of(1, -1, 0);
    adamStep(p, [1e3, -1e-3, 0], createAdamState(), 0.01, { weightDecay: 0 });
    expect(p[0]).toBeCloseTo(0.99, 6);
    expect(p[1]).toBeCloseTo(-0.99, 5);
    expect(p[2]).toBe(0);
    // With decay, a zero gradient still pulls towards 0: d = wd·p.
    const q = Float32Array.of(2);
    adamStep(q, [0], createAdamState(), 0.01, { weightDecay: 0.1 });
    expect(q[0]).toBeCloseTo(1.99, 6);
  });

  it('state clones are independent', () => {
    const s = createAdamState();
    const p = Float32Array.of(1, 2);
    adamStep(p, [1, 1], s, 0.1, { weightDecay: 0 });
    const c = cloneAdamState(s);
    adamStep(p, [1, 1], s, 0.1, { weightDecay: 0 });
    expect(c.step).toBe(1);
    expect(s.step).toBe(2);
    expect(c.expAvg![0]).not.toBe(s.expAvg![0]);
  });

  it('refuses a gradient or moments of another length', () => {
    expect(() => adamStep(new Float32Array(2), [1], createAdamState(), 0.1, { weightDecay: 0 })).toThrow(RangeError);
    const s = { step: 1, expAvg: new Float32Array(3), expAvgSq: new Float32Array(3) };
    expect(() => adamStep(new Float32Array(2), [1, 1], s, 0.1, { weightDecay: 0 })).toThrow(RangeError);
  });
});
