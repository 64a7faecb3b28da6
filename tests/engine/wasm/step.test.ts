/**
 * The whole CoOp step on the WASM SIMD kernels against the JavaScript reference (the same composition on the f64
 * twins), against finite differences of its own loss, and against the PyTorch dumps made by the tools/ scripts from
 * the official code: CoOp (unified and CSC, class token end / middle / front), KgCoOp and ProGrad through the CPU
 * engine the worker and the command line train with, and the text forward against ORT's text_embeds.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { coopStepCpu, encodeTokensCpu } from '../../../src/engine/cpu-text-encoder';
import { promptLayout } from '../../../src/engine/prompt';
import type { TextConfig } from '../../../src/engine/model/text-weights';
import { WasmKernels } from '../../../src/engine/wasm/kernels';
import { CpuTextEngine } from '../../../src/worker/cpu-text-engine';
import { methodLossAndGrad, type EngineStepFn } from '../../../src/coop/prompt-methods';
import { f32, randn } from '../../helpers/random';
import { relErr, report, minRowCosine } from '../../helpers/compare';
import { loadFixture } from '../../helpers/fixture';
import { randomImages, randomPrompts, randomTextWeights } from '../random-model';
import { DUMPS, loadDump, toyClipWeights } from '../dumps';
import { methodDumpFromFixture } from '../method-dump-spec';

/** Widths that are not multiples of the 6×8 tile nor of 4 lanes: every ragged edge of every kernel. */
const ragged: TextConfig = { D: 30, L: 2, H: 3, V: 40, E: 22, F: 120, P: 24, eps: 1e-5 };

const kern = await WasmKernels.create({ threads: 2 });
afterAll(() => kern.destroy());

describe('WASM CPU engine: the whole step vs the JavaScript reference (random ragged tower, fp32)', () => {
  const w = randomTextWeights(ragged, 5, true);
  kern.adoptWeights(w);
  const K = 7;
  const { imageFeatures, labels } = randomImages(13, ragged.E, K);
  for (const csc of [false, true]) {
    for (const position of ['end', 'middle', 'front'] as const) {
      it(`${csc ? 'CSC' : 'unified'} ${position}: loss, logits, text features and d loss / d ctx within 1e-4`, () => {
        const layout = promptLayout(randomPrompts(ragged, K, 4, csc, position), ragged.V);
        const input = { layout, ctx: f32(randn(layout.ctxRows * ragged.D, 9, 0.3)), imageFeatures: f32(imageFeatures), labels, logitScale: 20 };
        const want = coopStepCpu(w, input);
        const got = kern.run(() => {
          const r = coopStepCpu(w, input, 'fast', kern);
          return { loss: r.loss, logits: Float32Array.from(r.logits), grad: Float32Array.from(r.gradCtx), txt: Float32Array.from(r.textFeatures) };
        });
        const tag = `${csc ? 'csc' : 'unified'}-${position}`;
        expect(Math.abs(got.loss - want.loss) / Math.abs(want.loss)).toBeLessThan(1e-5);
        expect(report(`wasm ${tag} logits vs reference`, relErr(got.logits, want.logits))).toBeLessThan(1e-4);
        expect(report(`wasm ${tag} text features vs reference`, relErr(got.txt, want.textFeatures))).toBeLessThan(1e-4);
        expect(report(`wasm ${tag} grad vs reference`, relErr(got.grad, want.gradCtx))).toBeLessThan(1e-4);
      });
    }
  }

  it('d loss / d ctx matches central differences of its own fp32 loss (unified, end)', () => {
    const small: TextConfig = { D: 12, L: 2, H: 2, V: 16, E: 10, F: 24, P: 16, eps: 1e-5 };
    const ws = randomTextWeights(small, 3, true);
    const k2 = kern; // same kernels, another tower: adopting adds its packed weights
    k2.adoptWeights(ws);
    const layout = promptLayout(randomPrompts(small, 3, 3, false, 'end'), small.V);
    const { imageFeatures: img, labels: lab } = randomImages(5, small.E, 3);
    const ctx = f32(randn(layout.ctxRows * small.D, 21, 0.5));
    const input = { layout, ctx, imageFeatures: f32(img), labels: lab, logitScale: 5 };
    const loss = () => k2.run(() => coopStepCpu(ws, input, 'fast', k2).loss);
    const grad = k2.run(() => Float32Array.from(coopStepCpu(ws, input, 'fast', k2).gradCtx));
    // fp32: a step of 1e-2 keeps the rounding of the two losses (~1e-7 relative) far below the difference.
    const eps = 1e-2;
    const fd = new Float64Array(ctx.length);
    for (let i = 0; i < ctx.length; i++) {
      const keep = ctx[i];
      ctx[i] = keep + eps;
      const lp = loss();
      ctx[i] = keep - eps;
      const lm = loss();
      ctx[i] = keep;
      fd[i] = (lp - lm) / (2 * eps);
    }
    expect(report('wasm grad vs central differences (fp32, eps 1e-2)', relErr(grad, fd, 1e-4))).toBeLessThan(2e-3);
  });
});

describe('WASM CPU engine vs PyTorch (toy-clip dumps)', () => {
  const w = toyClipWeights();
  kern.adoptWeights(w);
  for (const file of DUMPS) {
    it(`${file}: loss, logits and ctx gradient within 1e-4`, () => {
      const d = loadDump(file);
      const layout = promptLayout(d.spec, w.config.V);
      const r = kern.run(() => {
        const s = coopStepCpu(w, { layout, ctx: d.ctx, imageFeatures: d.imageFeatures, labels: d.labels, logitScale: d.logitScale }, 'fast', kern);
        return { loss: s.loss, logits: Float32Array.from(s.logits), grad: Float32Array.from(s.gradCtx) };
      });
      const lossErr = Math.abs(r.loss - d.fx.f32('loss')[0]) / Math.abs(d.fx.f32('loss')[0]);
      const gradErr = relErr(r.grad, d.fx.f32('grad'));
      const logitErr = relErr(r.logits, d.fx.f32('logits'));
      console.log(`[tol] wasm ${file}: loss ${lossErr.toExponential(2)} grad ${gradErr.toExponential(2)} logits ${logitErr.toExponential(2)}`);
      expect(lossErr).toBeLessThan(1e-4);
      expect(gradErr).toBeLessThan(1e-4);
      expect(logitErr).toBeLessThan(1e-4);
    });
  }

  for (const file of ['prompts.bin', 'toy-clip-io.bin']) {
    it(`${file}: text forward reproduces text_embeds (cosine ≥ 0.99999)`, () => {
      const fx = loadFixture(file);
      const ids = fx.i32('input_ids');
      const [B] = fx.shape('input_ids');
      const want = fx.f32('text_embeds');
      const got = kern.run(() => encodeTokensCpu(w, ids, B, kern));
      const minCos = minRowCosine(got, want, B);
      console.log(`[tol] wasm encodeTokens ${file}: min cosine ${minCos.toFixed(8)}, rel err ${relErr(got, want).toExponential(2)} over ${B} prompts`);
      expect(minCos).toBeGreaterThanOrEqual(0.99999);
    });
  }

  for (const file of ['methods/kgcoop-csc-middle.bin', 'methods/prograd-unified-end.bin', 'methods/prograd-csc-front.bin']) {
    it(`${file}: KgCoOp / ProGrad through the CPU engine (WASM) vs PyTorch and the reference`, async () => {
      const d = methodDumpFromFixture(loadFixture(file));
      const engine = new CpuTextEngine({ weights: w, logitScale: d.logitScale, kernels: await WasmKernels.create({ threads: 2 }) });
      const reference = new CpuTextEngine({ weights: w, logitScale: d.logitScale });
      const stepOf = (e: CpuTextEngine): EngineStepFn => (ctx, imageFeatures, labels, textGrad, secondGrad) => e.step(ctx.data, imageFeatures, labels, textGrad, secondGrad);
      engine.setPrompts(d.spec);
      reference.setPrompts(d.spec);
      try {
        const got = await methodLossAndGrad(d.cfg, stepOf(engine))(d.context, d.imageFeatures, d.labels);
        const ref = await methodLossAndGrad(d.cfg, stepOf(reference))(d.context, d.imageFeatures, d.labels);
        const wantLoss = d.fx.f32('loss')[0];
        const e = {
          loss: Math.abs(got.loss - wantLoss) / Math.abs(wantLoss),
          grad: relErr(got.gradCtx, d.fx.f32('grad')),
          logits: relErr(got.logits, d.fx.f32('logits')),
          vsReference: relErr(got.gradCtx, ref.gradCtx),
        };
        console.log(`[tol] wasm ${file}: loss ${e.loss.toExponential(2)} grad ${e.grad.toExponential(2)} logits ${e.logits.toExponential(2)}; grad vs reference ${e.vsReference.toExponential(2)}`);
        expect(e.loss).toBeLessThan(1e-4);
        expect(e.grad).toBeLessThan(1e-4);
        expect(e.logits).toBeLessThan(1e-4);
        expect(e.vsReference).toBeLessThan(1e-4);
      } finally {
        engine.dispose();
      }
    });
  }
});

describe('WASM CPU engine: adopted weights', () => {
  it('keep no JavaScript copy of the matrices, compute the same step, and refuse a stand-in used with another shape', () => {
    const w = randomTextWeights(ragged, 8, true);
    const slim = kern.adoptWeights(w);
    expect(slim.layers[0].fc1.w.length).toBe(0);
    expect(slim.projection.length).toBe(0);
    expect(slim.tokenEmbedding).toBe(w.tokenEmbedding);
    const layout = promptLayout(randomPrompts(ragged, 3, 2, false, 'end'), ragged.V);
    const { imageFeatures, labels } = randomImages(4, ragged.E, 3);
    const input = { layout, ctx: f32(randn(layout.ctxRows * ragged.D, 4, 0.3)), imageFeatures: f32(imageFeatures), labels, logitScale: 20 };
    const a = kern.run(() => Float32Array.from(coopStepCpu(w, input, 'fast', kern).gradCtx));
    const b = kern.run(() => Float32Array.from(coopStepCpu(slim, input, 'fast', kern).gradCtx));
    expect(b).toEqual(a);
    const x = new Float32Array(2 * ragged.F);
    expect(() => kern.run(() => kern.matmul(x, slim.layers[0].fc1.w, { m: 2, n: ragged.D, k: ragged.F }))).toThrow(/packed \[30, 120\] weight used as \[120, 30\]/);
  });
});

describe('WASM CPU engine: classes in chunks within the activation budget', () => {
  it('a step in chunks (all but the last recomputed in backward) equals the one-chunk step; its arena stays within the budget', async () => {
    const w = randomTextWeights(ragged, 12, true);
    const chunked = await WasmKernels.create({ threads: 1 });
    const slim = chunked.adoptWeights(w);
    const K = 9;
    const S = 4;
    // A budget that holds 2 classes' activations per chunk.
    chunked.activationBudget = 2 * 2 * 4 * (48 * ragged.D + 8 * ragged.F) * S * ragged.L + 1;
    for (const [csc, position] of [[false, 'end'], [true, 'middle']] as const) {
      const layout = promptLayout(randomPrompts(ragged, K, 3, csc, position, 5), ragged.V);
      const { imageFeatures, labels } = randomImages(11, ragged.E, K);
      const input = { layout, ctx: f32(randn(layout.ctxRows * ragged.D, 6, 0.3)), imageFeatures: f32(imageFeatures), labels, logitScale: 20 };
      const want = coopStepCpu(w, input);
      const got = chunked.run(() => {
        const r = encoderChunks(slim, input, chunked);
        return { ...r, grad: Float32Array.from(r.gradCtx), logits: Float32Array.from(r.logits) };
      });
      expect(got.chunks).toBeGreaterThan(2);
      expect(Math.abs(got.loss - want.loss) / want.loss).toBeLessThan(1e-5);
      expect(report(`wasm chunked ${csc ? 'csc' : 'unified'}-${position} grad vs reference`, relErr(got.grad, want.gradCtx))).toBeLessThan(1e-4);
      expect(relErr(got.logits, want.logits)).toBeLessThan(1e-4);
    }
    chunked.destroy();
  });
});

/** coopStepCpu, with the number of chunks its loss ran in. */
function encoderChunks(w: Parameters<typeof coopStepCpu>[0], input: Parameters<typeof coopStepCpu>[1], kern: WasmKernels) {
  const r = coopStepCpu(w, input, 'fast', kern);
  return { ...r, chunks: r.chunks };
}
