import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { proveTextWeights, type ProofPrompt } from '../../src/engine/load-proof';
import { encodeTokensCpu } from '../../src/engine/cpu-text-encoder';
import type { TextWeights } from '../../src/engine/model/text-weights';
import { tokenizerFromHfJson } from '../../src/tokenizer';
import { TOY_CLIP } from '../helpers/fixture';
import { toyClipWeights } from './dumps';

const TEXTS = ['a photo of a star.', 'a red circle.', 'an outline drawing of a large striped heart.'];

/** ORT's text_embeds for the prompts, from the real model file (what the app computes at load). */
async function ortPrompts(): Promise<ProofPrompt[]> {
  const tok = tokenizerFromHfJson(JSON.parse(readFileSync(path.join(TOY_CLIP, 'tokenizer.json'), 'utf8')));
  const ids = TEXTS.map((t) => tok.tokenize(t));
  const session = await ort.InferenceSession.create(path.join(TOY_CLIP, 'onnx', 'text_model.onnx'));
  const input = new ort.Tensor('int64', BigInt64Array.from(ids.flatMap((r) => Array.from(r, BigInt))), [ids.length, 77]);
  const out = await session.run({ input_ids: input });
  const emb = out.text_embeds.data as Float32Array;
  const E = emb.length / ids.length;
  await session.release();
  return TEXTS.map((text, i) => ({ text, ids: ids[i], reference: emb.slice(i * E, (i + 1) * E) }));
}

describe('load-time proof against onnxruntime-node', async () => {
  const weights = toyClipWeights();
  const prompts = await ortPrompts();
  const cpuEncode = (w: TextWeights) => (ids: Int32Array, B: number) => encodeTokensCpu(w, ids, B);

  it('the weights read from text_model.onnx reproduce ORT (CPU twin forward)', async () => {
    const r = await proveTextWeights(cpuEncode(weights), prompts);
    console.log(`[tol] load proof (cpu): cosines ${r.cosines.map((c) => c.toFixed(8)).join(', ')}`);
    expect(r.minCosine).toBeGreaterThanOrEqual(0.99999);
  });

  it('refuses a tower whose weights were read wrong, naming the prompt', async () => {
    // Swapping q and k in one layer is the kind of mistake a name-based reader can make.
    const l0 = weights.layers[0];
    const broken: TextWeights = { ...weights, layers: [{ ...l0, q: l0.k, k: l0.q }, ...weights.layers.slice(1)] };
    await expect(proveTextWeights(cpuEncode(broken), prompts)).rejects.toThrow(
      /^text_model\.onnx is not read right by this engine: the text weights read from it do not reproduce its own outputs \(cosine [-0-9.]+ against ORT, at least 0\.99999 needed, for prompt '.+'\); the file is not a CLIP text tower this engine understands: use the folder's other text file \(onnx\/text_model\.onnx or onnx\/text_model_fp16\.onnx\) or another model$/,
    );
    const transposed: TextWeights = { ...weights, projection: weights.projection.map((_, i, a) => a[(i % 128) * 128 + Math.floor(i / 128)]) };
    await expect(proveTextWeights(cpuEncode(transposed), prompts)).rejects.toThrow(/do not reproduce its own outputs/);
  });

  it('refuses output of the wrong width', async () => {
    await expect(proveTextWeights(() => new Float32Array(prompts.length * 3), prompts)).rejects.toThrow(/give 3 values per prompt, its own outputs \(ORT\) 128/);
  });
});
