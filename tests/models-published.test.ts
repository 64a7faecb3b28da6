/**
 * The loader on folders as transformers.js publishes them (no manifest.json), made by the stand-in generator
 * (tools/clip-standin) at its tiny shape: fp32 and fp16 text files, both tokenizer layouts, and every bad
 * input the loader must refuse, each with its message. One test loads the ViT-B/32-sized stand-in.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeTokensCpu } from '../src/engine/cpu-text-encoder';
import { halfToFloat, floatToHalf } from '../src/engine/model/half';
import { cosine, proveTextWeights, type ProofPrompt } from '../src/engine/load-proof';
import { describeModel, loadModelFolder, readTower, textWeightsOf, type ModelDescription } from '../src/models/load';
import { loadModelFromDir, type NodeModel } from '../src/models/node';
import type { ModelSource } from '../src/models/source';
import { nodeDirSource } from '../src/models/sources/node-dir';
import { ensureStandin, writeStandin } from '../tools/clip-standin/standin';
import { syntheticVocabulary, tokenizerJson } from '../tools/clip-standin/vocab';
import { tokenizerFromHfJson, type HfTokenizerJson } from '../src/tokenizer';

const TEXTS = ['a photo of a star.', 'a red circle on a striped background.', 'X X X X X X X X X X X X X X X X disc.'];

let tiny = '';
beforeAll(() => {
  tiny = ensureStandin('tiny');
});

let work = '';
afterEach(() => {
  if (work) rmSync(work, { recursive: true, force: true });
  work = '';
});

/** A scratch copy of the tiny stand-in, named like a published repo, to break file by file. */
function copy(name = 'clip-vit-tiny'): string {
  work = mkdtempSync(join(tmpdir(), 'published-'));
  const dir = join(work, name);
  cpSync(tiny, dir, { recursive: true });
  return dir;
}

const readJson = (dir: string, f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8'));
const writeJson = (dir: string, f: string, v: unknown) => writeFileSync(join(dir, f), JSON.stringify(v));

/** A source that records what was read, to prove the big files are left alone when the small ones are bad. */
function recording(dir: string): { source: ModelSource; reads: string[] } {
  const inner = nodeDirSource(dir);
  const reads: string[] = [];
  return {
    reads,
    source: { ...inner, describe: inner.describe, read: (p, o) => (reads.push(p), inner.read(p, o)) },
  };
}

/** ORT's own text_embeds for the prompts, from the file's bytes (what the app computes at load). */
async function ortPrompts(bytes: Uint8Array, desc: ModelDescription, texts = TEXTS): Promise<ProofPrompt[]> {
  const ids = texts.map((t) => desc.tokenizer.tokenize(t));
  const session = await ort.InferenceSession.create(bytes);
  const input = new ort.Tensor('int64', BigInt64Array.from(ids.flatMap((r) => Array.from(r, BigInt))), [ids.length, 77]);
  const emb = (await session.run({ input_ids: input })).text_embeds.data as Float32Array;
  await session.release();
  const E = emb.length / ids.length;
  return texts.map((text, i) => ({ text, ids: ids[i], reference: emb.slice(i * E, (i + 1) * E) }));
}

const cpu = (m: NodeModel) => (ids: Int32Array, B: number) => encodeTokensCpu(m.weights, ids, B);

describe('folders as published (no manifest.json)', () => {
  it('describes a folder from its configs: id from the folder, logit scale 100 by default, every tower file with dtype and size', async () => {
    const d = await describeModel(nodeDirSource(copy()));
    expect(d).toMatchObject({
      id: 'clip-vit-tiny',
      name: 'clip-vit-tiny',
      hasManifestFile: false,
      imageSize: 32,
      embedDim: 24,
      contextLength: 77,
      textWidth: 32,
      logitScale: 100,
      logitScaleOrigin: 'default',
      sourceKind: 'disk',
    });
    expect(d.preprocess).toEqual({ shortestEdge: 32, cropHeight: 32, cropWidth: 32, mean: [0.48145466, 0.4578275, 0.40821073], std: [0.26862954, 0.26130258, 0.27577711] });
    expect(d.files.text.map((f) => [f.path, f.dtype])).toEqual([['onnx/text_model.onnx', 'fp32'], ['onnx/text_model_fp16.onnx', 'fp16']]);
    expect(d.files.vision.map((f) => [f.path, f.dtype])).toEqual([['onnx/vision_model.onnx', 'fp32'], ['onnx/vision_model_fp16.onnx', 'fp16']]);
    for (const f of [...d.files.text, ...d.files.vision]) expect(f.size).toBeGreaterThan(100_000);
    expect(d.manifest).toEqual({ id: 'clip-vit-tiny', name: 'clip-vit-tiny', image_size: 32, embed_dim: 24, logit_scale: 100, context_length: 77, text_width: 32 });
  });

  it('lets a manifest.json, where present, win', async () => {
    const dir = copy();
    writeJson(dir, 'manifest.json', { id: 'mine', name: 'My CLIP', image_size: 32, embed_dim: 24, logit_scale: 50 });
    const d = await describeModel(nodeDirSource(dir));
    expect([d.id, d.name, d.logitScale, d.logitScaleOrigin, d.hasManifestFile]).toEqual(['mine', 'My CLIP', 50, 'manifest', true]);
    // The user's own value, stored with the model, wins over both.
    const mine = await describeModel(nodeDirSource(dir), { logitScale: 70 });
    expect([mine.logitScale, mine.logitScaleOrigin, mine.manifest.logit_scale]).toEqual([70, 'user', 70]);
    await expect(describeModel(nodeDirSource(dir), { logitScale: -1 })).rejects.toThrow(
      'clip-vit-tiny has a logit scale of -1 set for it; set a positive number (100 for OpenAI\'s CLIP)',
    );
  });

  it('loads through the bundled HTTP source as the app does, with an fp16-only text tower', async () => {
    const dir = copy('published');
    rmSync(join(dir, 'onnx/text_model.onnx'));
    const realFetch = globalThis.fetch;
    globalThis.fetch = (async (url: string) => {
      try {
        return new Response(readFileSync(join(work, decodeURIComponent(url.replace(/^\/app\/models\//, '')))));
      } catch {
        return new Response('not found', { status: 404 });
      }
    }) as typeof fetch;
    try {
      let last = 0;
      const m = await loadModelFolder({ folder: 'published', name: 'published', sizes: {} }, { baseUrl: '/app/', onProgress: (p) => (last = p.loaded) });
      expect(m.textFile).toMatchObject({ path: 'onnx/text_model_fp16.onnx', dtype: 'fp16', file: 'public/models/published/onnx/text_model_fp16.onnx' });
      expect(m.visionFile.dtype).toBe('fp32');
      expect(m.manifest.logit_scale).toBe(100);
      expect(last).toBeGreaterThan(m.textModel.byteLength + m.visionModel.byteLength);
    } finally {
      globalThis.fetch = realFetch;
    }
  });
});

describe('tokenizer.json layouts', () => {
  const layouts = {
    'model.vocab and added_tokens': (j: Record<string, any>) => j,
    'model.vocab only': (j: Record<string, any>) => ({ ...j, added_tokens: [] }),
    'added_tokens only': (j: Record<string, any>) => {
      const vocab = { ...j.model.vocab };
      delete vocab['<|startoftext|>'];
      delete vocab['<|endoftext|>'];
      return { ...j, model: { ...j.model, vocab } };
    },
  };
  for (const [layout, edit] of Object.entries(layouts)) {
    it(`reads CLIP's specials from ${layout}`, async () => {
      const dir = copy();
      const original = readJson(dir, 'tokenizer.json');
      writeJson(dir, 'tokenizer.json', edit(original));
      const { tokenizer } = await describeModel(nodeDirSource(dir));
      const V = Object.keys(original.model.vocab).length;
      expect([tokenizer.sosId, tokenizer.eosId, tokenizer.vocabSize]).toEqual([V - 2, V - 1, V]);
      const ids = tokenizer.tokenize('a photo of a star.');
      expect(ids[0]).toBe(V - 2);
      expect(Array.from(ids).indexOf(V - 1)).toBeGreaterThan(1);
    });
  }
});

describe("the stand-in's vocabulary without ../shared", () => {
  it("is CLIP's size and structure, the same on every run, and tokenizes through the app's reader", () => {
    const v = syntheticVocabulary();
    expect(v.tokens.length).toBe(49408);
    expect(new Set(v.tokens).size).toBe(49408);
    expect(v.tokens.slice(-2)).toEqual(['<|startoftext|>', '<|endoftext|>']);
    expect(syntheticVocabulary().merges.slice(-3)).toEqual(v.merges.slice(-3));
    const tok = tokenizerFromHfJson(tokenizerJson(v) as HfTokenizerJson);
    expect([tok.sosId, tok.eosId, tok.vocabSize]).toEqual([49406, 49407, 49408]);
    const ids = tok.encode('a photo of a cat.');
    expect(tok.decode(ids)).toBe('a photo of a cat . ');
  });
});

describe('fp16 text weights', () => {
  it('are the fp32 weights rounded to half, upcast exactly; the fp16 file proves against its own ORT output, the fp32 file within fp16 rounding', async () => {
    const dir = copy();
    const m32 = await loadModelFromDir(dir, { text: 'fp32' });
    const m16 = await loadModelFromDir(dir, { text: 'fp16' });
    expect(m16.text.file.endsWith('onnx/text_model_fp16.onnx')).toBe(true);
    // Found through the Cast nodes: every weight equals its fp32 twin rounded to half precision.
    const rounded = (a: ArrayLike<number>) => halfToFloat(floatToHalf(a));
    expect(m16.weights.layers[1].fc2.w).toEqual(rounded(m32.weights.layers[1].fc2.w));
    expect(m16.weights.layers[0].q.b).toEqual(rounded(m32.weights.layers[0].q.b));
    expect(m16.weights.projection).toEqual(rounded(m32.weights.projection));
    expect(m16.weights.tokenEmbedding).toEqual(rounded(m32.weights.tokenEmbedding));

    const ort16 = await ortPrompts(m16.text.bytes, m16.description);
    const proof16 = await proveTextWeights(cpu(m16), ort16, 0.99999, m16.text.file);
    const ort32 = await ortPrompts(m32.text.bytes, m32.description);
    const proof32 = await proveTextWeights(cpu(m32), ort32, 0.99999, m32.text.file);
    // fp16 rounding of the weights (relative 2^-11) moves the features by about that much: cos ≥ 1 − 1e-5.
    const across = ort16.map((p, i) => cosine(p.reference, ort32[i].reference));
    console.log(`[tol] fp16 proof ${proof16.minCosine}, fp32 proof ${proof32.minCosine}, fp16 vs fp32 features ${Math.min(...across)}`);
    expect(proof16.minCosine).toBeGreaterThanOrEqual(0.99999);
    expect(Math.min(...across)).toBeGreaterThanOrEqual(0.99999);
    expect(Math.min(...across)).toBeLessThan(1 - 1e-12);
  });

  it('are read from a file that also computes in half precision (Casts only at its inputs and outputs), and prove against it', async () => {
    copy();
    const dir = join(work, 'fp16-compute');
    writeStandin({ shape: 'tiny', out: dir, fp16: 'compute' });
    const m = await loadModelFromDir(dir, { text: 'fp16' });
    const m32 = await loadModelFromDir(dir, { text: 'fp32' });
    expect(m.weights.layers[0].fc1.w).toEqual(halfToFloat(floatToHalf(m32.weights.layers[0].fc1.w)));
    // ORT rounds every activation to half here, the engine does not: the proof still holds (vit-b32: 0.99999992).
    const r = await proveTextWeights(cpu(m), await ortPrompts(m.text.bytes, m.description), 0.99999, m.text.file);
    console.log(`[tol] fp16-compute proof ${r.minCosine}`);
    expect(r.minCosine).toBeLessThan(1 - 1e-9);
  });
});

describe('bad folders: refused with a message naming the file and what to do', () => {
  it('a model that is not CLIP, before any ONNX file is read', async () => {
    const dir = copy();
    writeJson(dir, 'config.json', { ...readJson(dir, 'config.json'), model_type: 'siglip' });
    const { source, reads } = recording(dir);
    await expect(describeModel(source)).rejects.toThrow(
      /clip-vit-tiny\/config\.json has model_type "siglip", not "clip"; this app learns prompts for CLIP models only: choose a CLIP model \(e\.g\. Xenova\/clip-vit-base-patch32\)$/,
    );
    expect(reads).toEqual(['config.json']);
  });

  it('a config without one of the towers', async () => {
    const dir = copy();
    const c = readJson(dir, 'config.json');
    delete c.vision_config;
    writeJson(dir, 'config.json', c);
    await expect(describeModel(nodeDirSource(dir))).rejects.toThrow(
      /config\.json has no vision_config; a CLIP config\.json describes both towers: use the config\.json published with the model$/,
    );
  });

  it('a folder without a tower file', async () => {
    const dir = copy();
    rmSync(join(dir, 'onnx/text_model.onnx'));
    rmSync(join(dir, 'onnx/text_model_fp16.onnx'));
    const { source, reads } = recording(dir);
    await expect(describeModel(source)).rejects.toThrow(
      /clip-vit-tiny\/onnx\/text_model\.onnx is missing, and so is onnx\/text_model_fp16\.onnx; add the text tower as transformers\.js publishes it \(onnx\/text_model\.onnx or onnx\/text_model_fp16\.onnx\)$/,
    );
    expect(reads.filter((p) => p.endsWith('.onnx'))).toEqual([]);
  });

  it('text and vision embed dims that differ', async () => {
    const dir = copy();
    const c = readJson(dir, 'config.json');
    c.vision_config.projection_dim = 32;
    writeJson(dir, 'config.json', c);
    await expect(describeModel(nodeDirSource(dir))).rejects.toThrow(
      /config\.json gives the text tower embed dim 24 but the vision tower 32; CLIP compares both in one space, so the towers must come from the same model: use a folder whose towers were trained together$/,
    );
  });

  it('a vocabulary whose EOS is not the largest id', async () => {
    const dir = copy();
    const t = readJson(dir, 'tokenizer.json');
    const V = Object.keys(t.model.vocab).length;
    // Swap EOS with an ordinary token: still a complete vocabulary, but EOS is no longer the argmax.
    const other = Object.keys(t.model.vocab).find((k) => t.model.vocab[k] === 300)!;
    t.model.vocab[other] = V - 1;
    t.model.vocab['<|endoftext|>'] = 300;
    t.added_tokens = t.added_tokens.map((a: { content: string }) => (a.content === '<|endoftext|>' ? { ...a, id: 300 } : a));
    writeJson(dir, 'tokenizer.json', t);
    const { source, reads } = recording(dir);
    await expect(describeModel(source)).rejects.toThrow(
      new RegExp(
        `tokenizer\\.json has EOS id 300, not the largest id ${V - 1}; CLIP's text tower reads the feature at the largest id, so this vocabulary does not fit it: use the tokenizer\\.json published with the model$`,
      ),
    );
    expect(reads.filter((p) => p.endsWith('.onnx'))).toEqual([]);
  });

  it('a truncated ONNX file', async () => {
    const dir = copy();
    const full = readFileSync(join(dir, 'onnx/text_model_fp16.onnx')).byteLength;
    truncateSync(join(dir, 'onnx/text_model_fp16.onnx'), Math.floor(full / 2));
    const source = nodeDirSource(dir);
    const d = await describeModel(source);
    await expect(readTower(source, d, 'text', 'fp16')).rejects.toThrow(
      /clip-vit-tiny\/onnx\/text_model_fp16\.onnx is truncated or not an ONNX model \(its graph needs \d+ bytes but the file has \d+\); download or copy the file again$/,
    );
    // Where the source knew the size beforehand (a hub listing, the model index), a short file is named by its size.
    const known = { ...d, files: { ...d.files, text: d.files.text.map((f) => ({ ...f, size: full })) } };
    await expect(readTower(source, known, 'text', 'fp16')).rejects.toThrow(
      new RegExp(`text_model_fp16\\.onnx has ${Math.floor(full / 2)} bytes but ${full} were expected \\(a transfer cut short\\?\\); download or copy it again$`),
    );
  });

  it('an fp16 file whose proof fails', async () => {
    const dir = copy();
    // Swap the names of layer 0's q and k projections throughout the file: ORT computes exactly what it did,
    // but a reader that goes by names now takes q for k, the kind of misreading the proof exists to catch.
    const path = join(dir, 'onnx/text_model_fp16.onnx');
    const bytes = readFileSync(path);
    let swaps = 0;
    for (let i = 0; (i = bytes.indexOf('layers.0.self_attn.', i)) >= 0; i++) {
      const at = i + 'layers.0.self_attn.'.length;
      if (bytes[at] === 0x71 /* q */ || bytes[at] === 0x6b /* k */) {
        bytes[at] = bytes[at] === 0x71 ? 0x6b : 0x71;
        swaps++;
      }
    }
    expect(swaps).toBeGreaterThan(4);
    writeFileSync(path, bytes);
    const m = await loadModelFromDir(dir, { text: 'fp16' });
    const prompts = await ortPrompts(m.text.bytes, m.description);
    await expect(proveTextWeights(cpu(m), prompts, 0.99999, m.text.file)).rejects.toThrow(
      /clip-vit-tiny\/onnx\/text_model_fp16\.onnx is not read right by this engine: the text weights read from it do not reproduce its own outputs \(cosine [-0-9.]+ against ORT, at least 0\.99999 needed, for prompt '.+'\); the file is not a CLIP text tower this engine understands: use the folder's other text file \(onnx\/text_model\.onnx or onnx\/text_model_fp16\.onnx\) or another model$/,
    );
  });

  it('a text file the engine cannot read names the file', async () => {
    const dir = copy();
    const source = nodeDirSource(dir);
    const d = await describeModel(source);
    const text = await readTower(source, d, 'text', 'fp32');
    const wrong = { ...d, config: { ...d.config, text_config: { ...(d.config.text_config as object), num_hidden_layers: 1 } } };
    expect(() => textWeightsOf(text, wrong)).toThrow(/clip-vit-tiny\/onnx\/text_model\.onnx is not a CLIP text tower this engine can read .*\n- the file has more than the 1 layers config\.json declares/s);
  });
});

describe('the ViT-B/32-sized stand-in', () => {
  it('loads as published (49,408 tokens, 224 px, 512-dim) and its fp16 text tower proves against ORT', async () => {
    const started = performance.now();
    const dir = ensureStandin('vit-b32');
    const generated = performance.now();
    const m = await loadModelFromDir(dir, { text: 'fp16' });
    const d = m.description;
    expect([d.imageSize, d.embedDim, d.textWidth, d.tokenizer.vocabSize, d.logitScale]).toEqual([224, 512, 512, 49408, 100]);
    // As published: text 254 MB fp32 / 127 MB fp16, vision 352 / 176 MB.
    const mb = (fs: typeof d.files.text) => fs.map((f) => [f.dtype, Math.round(f.size! / 1e6)]);
    expect(mb(d.files.text)).toEqual([['fp32', 254], ['fp16', 127]]);
    expect(mb(d.files.vision)).toEqual([['fp32', 352], ['fp16', 176]]);
    const prompts = await ortPrompts(m.text.bytes, d, TEXTS.slice(0, 2));
    const r = await proveTextWeights(cpu(m), prompts, 0.99999, m.text.file);
    console.log(
      `[size] vit-b32 stand-in: ${d.files.text.map((f) => `${f.path} ${(f.size! / 1e6).toFixed(1)} MB`).join(', ')}, ` +
        `${d.files.vision.map((f) => `${f.path} ${(f.size! / 1e6).toFixed(1)} MB`).join(', ')}; ensure ${((generated - started) / 1000).toFixed(1)} s, ` +
        `load + proof ${((performance.now() - generated) / 1000).toFixed(1)} s, cos ${r.minCosine}`,
    );
    expect(r.minCosine).toBeGreaterThanOrEqual(0.99999);
  }, 300_000);
});
