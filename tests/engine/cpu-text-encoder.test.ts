import { describe, expect, it } from 'vitest';
import { coopStepCpu, encodeTokensCpu } from '../../src/engine/cpu-text-encoder';
import { promptLayout } from '../../src/engine/prompt';
import type { TextConfig } from '../../src/engine/model/text-weights';
import { randn } from '../helpers/random';
import { relErr, report, minRowCosine } from '../helpers/compare';
import { loadFixture } from '../helpers/fixture';
import { randomImages, randomPrompts, randomTextWeights } from './random-model';
import { DUMPS, loadDump, toyClipWeights } from './dumps';

const small: TextConfig = { D: 8, L: 2, H: 2, V: 12, E: 6, F: 16, P: 16, eps: 1e-5 };

describe('CPU text encoder: finite differences of the whole CoOp step (Float64, random tower)', () => {
  const w = randomTextWeights(small, 3);
  const K = 3;
  const { imageFeatures, labels } = randomImages(5, small.E, K);
  for (const csc of [false, true]) {
    for (const position of ['end', 'middle', 'front'] as const) {
      it(`${csc ? 'CSC' : 'unified'} ${position}: d loss / d ctx matches central differences; naive = fast`, () => {
        const M = 3;
        const layout = promptLayout(randomPrompts(small, K, M, csc, position), small.V);
        const ctx = randn(layout.ctxRows * small.D, 21, 0.5);
        const input = { layout, ctx, imageFeatures, labels, logitScale: 5 };
        const fast = coopStepCpu(w, input, 'fast');
        const naive = coopStepCpu(w, input, 'naive');
        expect(Math.abs(fast.loss - naive.loss)).toBeLessThan(1e-12);
        report(`cpu ${csc ? 'csc' : 'unified'}-${position} naive vs fast grad`, relErr(fast.gradCtx, naive.gradCtx));
        expect(relErr(fast.gradCtx, naive.gradCtx)).toBeLessThan(1e-10);
        const eps = 1e-6;
        const fd = new Float64Array(ctx.length);
        for (let i = 0; i < ctx.length; i++) {
          const keep = ctx[i];
          ctx[i] = keep + eps;
          const lp = coopStepCpu(w, input, 'fast').loss;
          ctx[i] = keep - eps;
          const lm = coopStepCpu(w, input, 'fast').loss;
          ctx[i] = keep;
          fd[i] = (lp - lm) / (2 * eps);
        }
        const err = report(`cpu ${csc ? 'csc' : 'unified'}-${position} grad vs FD`, relErr(fast.gradCtx, fd, 1e-8));
        expect(err).toBeLessThan(1e-6);
        expect(fast.positions).toBeLessThan(naive.positions);
      });
    }
  }
});

describe('CPU text encoder vs PyTorch (toy-clip dumps)', () => {
  const w = toyClipWeights();
  for (const file of DUMPS) {
    // The naive path (77 positions per class) is slow on the CPU: one dump checks it, the GPU tests check all.
    const modes = file === 'coop-unified-end.bin' ? (['fast', 'naive'] as const) : (['fast'] as const);
    it(`${file}: loss, logits and ctx gradient within 1e-4 (${modes.join(' and ')})`, () => {
      const d = loadDump(file);
      const layout = promptLayout(d.spec, w.config.V);
      for (const mode of modes) {
        const r = coopStepCpu(w, { layout, ctx: d.ctx, imageFeatures: d.imageFeatures, labels: d.labels, logitScale: d.logitScale }, mode);
        const lossErr = Math.abs(r.loss - d.fx.f32('loss')[0]) / Math.abs(d.fx.f32('loss')[0]);
        const gradErr = relErr(r.gradCtx, d.fx.f32('grad'));
        const logitErr = relErr(r.logits, d.fx.f32('logits'));
        const featErr = relErr(r.textFeatures, d.fx.f32('text_features'));
        console.log(
          `[tol] cpu ${mode} ${file}: loss ${lossErr.toExponential(2)} grad ${gradErr.toExponential(2)} logits ${logitErr.toExponential(2)} text_features ${featErr.toExponential(2)} (positions ${r.positions})`,
        );
        expect(lossErr).toBeLessThan(1e-4);
        expect(gradErr).toBeLessThan(1e-4);
        expect(logitErr).toBeLessThan(1e-4);
      }
    });
  }

  for (const file of ['prompts.bin', 'toy-clip-io.bin']) {
    it(`${file}: text forward reproduces text_embeds (cosine ≥ 0.99999)`, () => {
      const fx = loadFixture(file);
      const ids = fx.i32('input_ids');
      const [B] = fx.shape('input_ids');
      const want = fx.f32('text_embeds');
      const got = encodeTokensCpu(w, ids, B);
      const minCos = minRowCosine(got, want, B);
      console.log(`[tol] cpu encodeTokens ${file}: min cosine ${minCos.toFixed(8)}, rel err ${relErr(got, want).toExponential(2)} over ${B} prompts`);
      expect(minCos).toBeGreaterThanOrEqual(0.99999);
    });
  }
});
