import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readOnnxModel } from '../../src/engine/model/onnx-reader';
import { loadTextWeights, textConfigFromJson, textWeightsFromOnnx, type TextConfig } from '../../src/engine/model/text-weights';
import { loadFixture, readArrayBuffer, TOY_CLIP } from '../helpers/fixture';
import { writeOnnx, type TestNode, type TestTensor } from './onnx-writer';
import { randn } from '../helpers/random';

const configJson = JSON.parse(readFileSync(path.join(TOY_CLIP, 'config.json'), 'utf8'));

describe('ONNX reader and text weights (toy-clip)', () => {
  const buf = readArrayBuffer(path.join(TOY_CLIP, 'onnx', 'text_model.onnx'));
  const model = readOnnxModel(buf);
  const cfg = textConfigFromJson(configJson);
  const w = textWeightsFromOnnx(model, cfg);

  it('reads the graph', () => {
    expect(model.graph.nodes.length).toBeGreaterThan(100);
    expect(model.graph.inputs).toContain('input_ids');
    expect(model.graph.outputs).toContain('text_embeds');
    expect(model.opsetVersion).toBeGreaterThanOrEqual(13);
  });

  it('finds every weight with the shapes config.json declares', () => {
    const { D, L, V, E, F } = cfg;
    expect(w.tokenEmbedding.length).toBe(V * D);
    expect(w.positionEmbedding.length).toBe(77 * D);
    expect(w.layers.length).toBe(L);
    for (const l of w.layers) {
      for (const lin of [l.q, l.k, l.v, l.out]) {
        expect(lin.w.length).toBe(D * D);
        expect(lin.b.length).toBe(D);
      }
      expect(l.fc1.w.length).toBe(D * F);
      expect(l.fc2.w.length).toBe(F * D);
    }
    expect(w.projection.length).toBe(D * E);
  });

  it('keeps aligned initializers as views on the file buffer (no copy)', () => {
    const views = [w.tokenEmbedding, w.layers[0].q.w, w.projection].filter((a) => a.buffer === buf);
    console.log(`[weights] ${views.length}/3 sampled tensors are views on the model buffer`);
    // The file's raw_data offsets decide alignment; both outcomes must give the same numbers.
    const t = model.graph.initializers.get('text_model.embeddings.token_embedding.weight')!;
    expect(t.float![0]).toBe(w.tokenEmbedding[0]);
  });

  it('distinct layers get distinct weights, q/k/v/out differ', () => {
    const a = w.layers[0];
    expect(a.q.w).not.toBe(a.k.w);
    expect(a.q.w[0]).not.toBe(a.k.w[0]);
    expect(w.layers[1].q.w[0]).not.toBe(a.q.w[0]);
  });

  it('token embedding rows equal the dumps’ prompt embeddings', () => {
    const fx = loadFixture('coop-unified-end.bin');
    const ids = fx.i32('token_ids');
    const emb = fx.f32('prompt_embeddings');
    const D = cfg.D;
    const T = fx.shape('token_ids')[1];
    const n = fx.meta.n_ctx as number;
    // position 0 (SOS) and the first suffix position come straight from the embedding table
    for (const pos of [0, 1 + n, 2 + n]) {
      const id = ids[pos];
      for (let d = 0; d < D; d++) expect(emb[pos * D + d]).toBe(w.tokenEmbedding[id * D + d]);
    }
    expect(T).toBe(77);
  });

  it('loadTextWeights takes the raw ArrayBuffer', () => {
    expect(loadTextWeights(buf, configJson).config.D).toBe(cfg.D);
  });
});

/** A one-layer tower in two encodings: anonymous transposed MatMul weights, and named PyTorch weights. */
function synthetic(named: boolean, opts: { drop?: string; pad?: number } = {}) {
  const cfg: TextConfig = { D: 4, L: 1, H: 2, V: 7, E: 3, F: 8, P: 6, eps: 1e-5 };
  const { D, V, E, F, P } = cfg;
  let seed = 1;
  const inits: TestTensor[] = [];
  const nodes: TestNode[] = [];
  const pt: Record<string, Float64Array> = {}; // PyTorch-layout [out,in] reference values
  const add = (name: string, dims: number[], asFloatData = false) => {
    const data = randn(dims.reduce((a, b) => a * b, 1), seed++);
    pt[name] = data;
    if (name === opts.drop) return;
    inits.push({ name, dims, data, asFloatData });
  };
  const t = 'text_model.';
  add(`${t}embeddings.token_embedding.weight`, [V, D]);
  add(`${t}embeddings.position_embedding.weight`, [P, D], true);
  const p = `${t}encoder.layers.0`;
  const x = 'x0';
  for (const ln of ['layer_norm1', 'layer_norm2']) {
    add(`${p}.${ln}.weight`, [D]);
    add(`${p}.${ln}.bias`, [D]);
  }
  const lin = (mod: string, i: number, o: number, input: string) => {
    const wName = `${p}.${mod}.weight`;
    const data = randn(o * i, seed++);
    pt[wName] = data;
    add(`${p}.${mod}.bias`, [o]);
    if (named) {
      if (wName !== opts.drop) inits.push({ name: wName, dims: [o, i], data });
      return;
    }
    const anon = `onnx::MatMul_${seed}`;
    const tr = new Float64Array(i * o);
    for (let r = 0; r < o; r++) for (let c = 0; c < i; c++) tr[c * o + r] = data[r * i + c];
    if (wName !== opts.drop) inits.push({ name: anon, dims: [i, o], data: tr });
    nodes.push({ opType: 'MatMul', inputs: [input, anon], outputs: [`${mod}_mm`] });
    nodes.push({ opType: 'Add', inputs: [`${p}.${mod}.bias`, `${mod}_mm`], outputs: [`${mod}_out`] });
  };
  for (const m of ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.out_proj']) lin(m, D, D, x);
  lin('mlp.fc1', D, F, x);
  lin('mlp.fc2', F, D, 'h');
  add(`${t}final_layer_norm.weight`, [D]);
  add(`${t}final_layer_norm.bias`, [D]);
  const projData = randn(E * D, seed++);
  pt['text_projection.weight'] = projData;
  nodes.push({ opType: 'Add', inputs: ['lnmul', `${t}final_layer_norm.bias`], outputs: ['last_hidden_state'] });
  nodes.push({ opType: 'Gather', inputs: ['last_hidden_state', 'eos'], outputs: ['pooled'] });
  if (named) {
    inits.push({ name: 'text_projection.weight', dims: [E, D], data: projData });
  } else {
    const tr = new Float64Array(D * E);
    for (let r = 0; r < E; r++) for (let c = 0; c < D; c++) tr[c * E + r] = projData[r * D + c];
    inits.push({ name: 'onnx::MatMul_999', dims: [D, E], data: tr });
    nodes.push({ opType: 'MatMul', inputs: ['pooled', 'onnx::MatMul_999'], outputs: ['text_embeds'] });
  }
  return { bytes: writeOnnx(nodes, inits, opts.pad ?? 0), cfg, pt };
}

describe('text weights: encodings and errors', () => {
  for (const named of [false, true]) {
    for (const pad of [0, 1, 2, 3]) {
      it(`${named ? 'named PyTorch [out,in]' : 'anonymous MatMul [in,out]'} weights, pad ${pad}: transposed to [in,out]`, () => {
        const { bytes, cfg, pt } = synthetic(named, { pad });
        const w = textWeightsFromOnnx(readOnnxModel(bytes), cfg);
        const { D, F, E } = cfg;
        const q = pt['text_model.encoder.layers.0.self_attn.q_proj.weight'];
        for (let o = 0; o < D; o++) for (let i = 0; i < D; i++) expect(w.layers[0].q.w[i * D + o]).toBeCloseTo(q[o * D + i], 6);
        const fc1 = pt['text_model.encoder.layers.0.mlp.fc1.weight'];
        for (let o = 0; o < F; o++) for (let i = 0; i < D; i++) expect(w.layers[0].fc1.w[i * F + o]).toBeCloseTo(fc1[o * D + i], 6);
        const pr = pt['text_projection.weight'];
        for (let o = 0; o < E; o++) for (let i = 0; i < D; i++) expect(w.projection[i * E + o]).toBeCloseTo(pr[o * D + i], 6);
        expect(w.positionEmbedding[3]).toBeCloseTo(pt['text_model.embeddings.position_embedding.weight'][3], 6);
      });
    }
  }

  it('names the missing tensor', () => {
    const { bytes, cfg } = synthetic(false, { drop: 'text_model.encoder.layers.0.self_attn.k_proj.bias' });
    expect(() => textWeightsFromOnnx(readOnnxModel(bytes), cfg)).toThrow(/encoder\.layers\.0\.self_attn\.k_proj\.bias is missing/);
    const b2 = synthetic(true, { drop: 'text_model.encoder.layers.0.mlp.fc2.weight' });
    expect(() => textWeightsFromOnnx(readOnnxModel(b2.bytes), b2.cfg)).toThrow(/mlp\.fc2\.weight is missing/);
  });

  it('names the mis-shaped tensor and the config it was checked against', () => {
    const { bytes, cfg } = synthetic(false);
    const wrong = { ...cfg, F: 16 };
    expect(() => textWeightsFromOnnx(readOnnxModel(bytes), wrong)).toThrow(/mlp\.fc1\.weight has shape \[4, 8\], expected \[4, 16\]/);
  });

  it('rejects a file that is not ONNX', () => {
    expect(() => readOnnxModel(new TextEncoder().encode('{"not": "onnx"}'))).toThrow(/ONNX/);
  });
});
