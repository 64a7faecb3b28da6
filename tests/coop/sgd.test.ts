import { describe, expect, it } from 'vitest';
import { createSgdState, sgdStep } from '../../src/coop/sgd';

describe('SGD (torch.optim.SGD semantics)', () => {
  it('three momentum steps with weight decay match hand computation', () => {
    // lr 0.1, momentum 0.9, wd 0.1, p0 = 1, gradients 1, 2, -1:
    // 1: d = 1 + 0.1·1 = 1.1;            buf = 1.1 (first step: buf = d);   p = 1 − 0.11 = 0.89
    // 2: d = 2 + 0.1·0.89 = 2.089;       buf = 0.99 + 2.089 = 3.079;        p = 0.89 − 0.3079 = 0.5821
    // 3: d = −1 + 0.05821 = −0.94179;    buf = 2.7711 − 0.94179 = 1.82931;   p = 0.5821 − 0.182931 = 0.399169
    const p = Float32Array.of(1);
    const s = createSgdState();
    const opts = { momentum: 0.9, weightDecay: 0.1 };
    const expected = [
      [0.89, 1.1],
      [0.5821, 3.079],
      [0.399169, 1.82931],
    ];
    [1, 2, -1].forEach((g, i) => {
      sgdStep(p, [g], s, 0.1, opts);
      expect(p[0]).toBeCloseTo(expected[i][0], 6);
      expect(s.momentumBuffer![0]).toBeCloseTo(expected[i][1], 6);
    });
  });

  it("CoOp's settings (momentum 0.9, wd 5e-4) on a vector", () => {
    // lr 0.002; p0 = [1, −2]; g = [0.5, 0.1] then [0.2, −0.3] then [0, 0].
    // 1: d = [0.5005, 0.099];             buf = d;                          p = [0.998999, −2.000198]
    // 2: d = [0.2004994995, −0.301000099]; buf = [0.6509494995, −0.211900099]; p = [0.997697101, −1.99977419980]
    // 3: d = [0.00049884855, −0.0009998871]; buf = [0.5863534, −0.1917099762]; p = [0.996524394, −1.99939078]
    const p = Float32Array.of(1, -2);
    const s = createSgdState();
    const opts = { momentum: 0.9, weightDecay: 5e-4 };
    sgdStep(p, [0.5, 0.1], s, 0.002, opts);
    expect(p[0]).toBeCloseTo(0.998999, 6);
    expect(p[1]).toBeCloseTo(-2.000198, 6);
    sgdStep(p, [0.2, -0.3], s, 0.002, opts);
    expect(p[0]).toBeCloseTo(0.997697101, 6);
    expect(p[1]).toBeCloseTo(-1.9997741998, 6);
    sgdStep(p, [0, 0], s, 0.002, opts);
    expect(s.momentumBuffer![0]).toBeCloseTo(0.5863534, 6);
    expect(s.momentumBuffer![1]).toBeCloseTo(-0.1917099762, 6);
    expect(p[0]).toBeCloseTo(0.996524394, 6);
    expect(p[1]).toBeCloseTo(-1.99939078, 5);
  });

  it('without momentum it is plain gradient descent with decay', () => {
    const p = Float32Array.of(2);
    sgdStep(p, [1], createSgdState(), 0.5, { momentum: 0, weightDecay: 0.5 });
    expect(p[0]).toBeCloseTo(2 - 0.5 * (1 + 1), 7);
  });

  it('nesterov and dampening follow PyTorch', () => {
    // nesterov: step = d + m·buf; first step buf = d = 1 → p = 0 − 0.1·(1 + 0.9) = −0.19
    const p = Float32Array.of(0);
    const s = createSgdState();
    sgdStep(p, [1], s, 0.1, { momentum: 0.9, weightDecay: 0, nesterov: true });
    expect(p[0]).toBeCloseTo(-0.19, 7);
    // dampening 0.5: first step buf = d = 1 (undamped); second buf = 0.9·1 + 0.5·1 = 1.4
    const q = Float32Array.of(0);
    const t = createSgdState();
    sgdStep(q, [1], t, 1, { momentum: 0.9, weightDecay: 0, dampening: 0.5 });
    sgdStep(q, [1], t, 1, { momentum: 0.9, weightDecay: 0, dampening: 0.5 });
    expect(t.momentumBuffer![0]).toBeCloseTo(1.4, 6);
    expect(q[0]).toBeCloseTo(-2.4, 6);
  });
});
