import { describe, expect, it } from 'vitest';
import { loadDump, toyClipWeights, DUMPS } from './engine/dumps';
import { CpuTextEngine } from '../src/worker/cpu-text-engine';

function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / den;
}

describe('CPU fallback of the worker (the engine\'s CPU twin) against the PyTorch dumps', () => {
  it('text features of class-specific context, class name in the middle (the forward-only tower step both engines evaluate with)', async () => {
    const d = loadDump('coop-csc-middle.bin');
    const engine = new CpuTextEngine({ weights: toyClipWeights(), logitScale: d.logitScale });
    engine.setPrompts(d.spec);
    expect(maxRelErr(await engine.textFeatures(d.ctx), d.fx.f32('text_features'))).toBeLessThan(1e-4);
  });

  for (const name of DUMPS.slice(0, 4)) {
    it(name, async () => {
      const d = loadDump(name);
      const engine = new CpuTextEngine({ weights: toyClipWeights(), logitScale: d.logitScale });
      engine.setPrompts(d.spec);
      const res = await engine.step(d.ctx, d.imageFeatures, d.labels);
      expect(res.loss).toBeCloseTo(d.fx.meta.loss as number, 4);
      expect(maxRelErr(res.logits, d.fx.f32('logits'))).toBeLessThan(1e-4);
      expect(maxRelErr(res.gradCtx, d.fx.f32('grad'))).toBeLessThan(1e-3);
      const txt = await engine.textFeatures(d.ctx);
      expect(maxRelErr(txt, d.fx.f32('text_features'))).toBeLessThan(1e-4);
    });
  }
});
