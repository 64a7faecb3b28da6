import { describe, expect, it } from 'vitest';
import { buildTipCache, searchTipParams, tipLogits, trainTipAdapterF, TIP_ADAPTER_DEFAULTS } from '../../src/coop/tip-adapter';
import { relErr } from '../helpers/compare';
import { loadFixture } from '../helpers/fixture';

// tools/toy-clip/method_dumps.py: 4 classes × 3 shots × 5 views, the official formulas in PyTorch.
const fx = loadFixture('methods/tip-adapter.bin');
const [N, V, E] = fx.shape('view_features');
const K = fx.meta.n_classes as number;
const views = fx.f32('view_features');
const cache = buildTipCache(views, N, V, E, fx.i32('labels'), K);
const zs = fx.f32('clip_weights');
const val = fx.f32('val_features');
const valLabels = fx.i32('val_labels');

describe('Tip-Adapter vs PyTorch (official formulas)', () => {
  it('keys are the normalized mean of the views; logits = 100 f Wᵀ + α exp(−β(1 − f Kᵀ)) V', () => {
    const keyErr = relErr(cache.keys, fx.f32('keys'));
    const logitErr = relErr(tipLogits(val, cache, zs, { alpha: fx.meta.alpha as number, beta: fx.meta.beta as number }), fx.f32('val_logits'));
    console.log(`[tol] tip-adapter keys ${keyErr.toExponential(2)} logits ${logitErr.toExponential(2)}`);
    expect(keyErr).toBeLessThan(1e-6);
    expect(logitErr).toBeLessThan(1e-5);
    expect(TIP_ADAPTER_DEFAULTS.alpha).toBe(1.17);
  });

  it('the official α/β search picks the same setting and accuracy', () => {
    const best = fx.meta.best as { acc: number; alpha: number; beta: number };
    const got = searchTipParams(val, valLabels, cache, zs, { scale: fx.meta.search_scale as [number, number], step: fx.meta.search_step as [number, number] });
    expect(got.acc * 100).toBeCloseTo(best.acc, 6);
    expect(got.alpha).toBeCloseTo(best.alpha, 12);
    expect(got.beta).toBeCloseTo(best.beta, 12);
  });

  it('Tip-Adapter-F: AdamW + cosine on the keys gives PyTorch’s losses and keys over the same batches', () => {
    const imgs = fx.i32('plan_images');
    const vs = fx.i32('plan_views');
    const [steps, B] = fx.shape('plan_images');
    const epochs = fx.meta.f_epochs as number;
    const per = steps / epochs;
    const losses: number[] = [];
    const keys = trainTipAdapterF(
      {
        cache,
        viewFeatures: views,
        nViews: V,
        zsText: zs,
        epochs,
        batchSize: fx.meta.f_batch as number,
        lr: fx.meta.f_lr as number,
        plan: (epoch) =>
          Array.from({ length: per }, (_, j) => {
            const s = epoch * per + j;
            return { images: imgs.subarray(s * B, (s + 1) * B), views: vs.subarray(s * B, (s + 1) * B) };
          }),
      },
      (e) => losses.push(...e.losses),
    );
    const lossErr = relErr(losses, fx.f32('f_losses'));
    const keyErr = relErr(keys, fx.f32('f_keys'));
    const logitErr = relErr(tipLogits(val, cache, zs, TIP_ADAPTER_DEFAULTS, keys), fx.f32('f_val_logits'));
    console.log(`[tol] tip-adapter-F losses ${lossErr.toExponential(2)} keys ${keyErr.toExponential(2)} val logits ${logitErr.toExponential(2)}`);
    expect(lossErr).toBeLessThan(1e-4);
    expect(keyErr).toBeLessThan(1e-5);
    expect(logitErr).toBeLessThan(1e-5);
  });
});
