import { describe, expect, it } from 'vitest';
import { assembleEmbeddings, promptLayout, scatterContextGrad, sharedPrefixLength, usedLength } from '../../src/engine/prompt';
import { loadDump, toyClipWeights } from './dumps';
import { randn } from '../helpers/random';

const weights = toyClipWeights();
const { D, V } = weights.config;

describe('prompt assembly vs the PyTorch PromptLearner', () => {
  for (const csc of [false, true]) {
    for (const position of ['end', 'middle', 'front'] as const) {
      const file = `coop-${csc ? 'csc' : 'unified'}-${position}.bin`;
      it(`${file}: embeddings equal prompt_embeddings exactly`, () => {
        const { fx, spec } = loadDump(file);
        const layout = promptLayout(spec, V);
        const emb = assembleEmbeddings(layout, weights.tokenEmbedding, fx.f32('ctx'), D);
        const want = fx.f32('prompt_embeddings');
        expect(emb.length).toBe(want.length);
        let bad = 0;
        for (let i = 0; i < want.length; i++) if (emb[i] !== want[i]) bad++;
        expect(bad).toBe(0);
        const M = spec.nCtx;
        const P = sharedPrefixLength(layout);
        const expected = csc || position === 'front' ? 1 : position === 'end' ? 1 + M : 1 + Math.floor(M / 2);
        expect(P).toBe(expected);
        console.log(`[prompt] ${file}: K=${layout.K} M=${M} shared prefix ${P}, used length ${usedLength(layout)}`);
      });
    }
  }

  it('scatterContextGrad is the adjoint of assembly (sums a unified row over classes)', () => {
    for (const file of ['coop-unified-middle.bin', 'coop-csc-front.bin']) {
      const { spec } = loadDump(file);
      const layout = promptLayout(spec, V);
      const Tu = usedLength(layout);
      const ctx = randn(layout.ctxRows * D, 3);
      const r = randn(layout.K * Tu * D, 4);
      const tok = Float64Array.from(weights.tokenEmbedding);
      const e1 = assembleEmbeddings(layout, tok, ctx, D, Tu);
      const g = scatterContextGrad(layout, r, D, Tu);
      // <A(ctx + h·u), r> − <A(ctx), r> = h·<u, Aᵀr> exactly, as A is affine in ctx.
      const u = randn(ctx.length, 5);
      const ctx2 = ctx.map((v, i) => v + u[i]);
      const e2 = assembleEmbeddings(layout, tok, ctx2, D, Tu);
      let lhs = 0;
      for (let i = 0; i < r.length; i++) lhs += (e2[i] - e1[i]) * r[i];
      let rhs = 0;
      for (let i = 0; i < u.length; i++) rhs += u[i] * g[i];
      expect(Math.abs(lhs - rhs)).toBeLessThan(1e-9 * Math.abs(rhs) + 1e-9);
    }
  });

  it('refuses names that do not fit before EOS and unknown ids', () => {
    const ids = new Int32Array(77);
    ids[0] = V - 2;
    ids[5] = V - 1;
    expect(() => promptLayout({ tokenIds: [ids], nameLens: [3], nCtx: 4, csc: false, position: 'end' }, V)).toThrow(/do not fit/);
    const bad = ids.slice();
    bad[5] = V + 3;
    expect(() => promptLayout({ tokenIds: [bad], nameLens: [0], nCtx: 2, csc: false, position: 'end' }, V)).toThrow(/outside the vocabulary/);
  });
});

describe('positions computed per step, K=8 shape names on toy-clip (unified, end)', () => {
  it('naive 8·77 = 616; fast (M+1) + K·suffix', async () => {
    const { readFileSync } = await import('node:fs');
    const path = await import('node:path');
    const { tokenizerFromHfJson } = await import('../../src/tokenizer');
    const { TOY_CLIP } = await import('../helpers/fixture');
    const tok = tokenizerFromHfJson(JSON.parse(readFileSync(path.join(TOY_CLIP, 'tokenizer.json'), 'utf8')));
    const names = ['circle', 'square', 'triangle', 'star', 'cross', 'ring', 'heart', 'diamond'];
    for (const M of [4, 16]) {
      const pre = Array(M).fill('X').join(' ');
      const layout = promptLayout(
        { tokenIds: names.map((n) => tok.tokenize(`${pre} ${n}.`)), nameLens: names.map((n) => tok.encode(n).length), nCtx: M, csc: false, position: 'end' },
        V,
      );
      const T = usedLength(layout);
      const P = sharedPrefixLength(layout);
      const fast = P + layout.K * (T - P);
      console.log(`[positions] K=8 unified end M=${M}: naive ${8 * 77}, fast ${fast} (T=${T}, shared prefix ${P})`);
      expect(P).toBe(M + 1);
      expect(fast).toBe(M + 1 + 8 * (T - P));
    }
  });
});
