/**
 * Hostile ONNX files (issue 22): a tensor declaring 10^12 elements, a config declaring 10^9 layers, a text_model.onnx
 * far larger than its config's tower; then the toy text tower's bytes and config mutated under fast-check:
 * loadTextWeights ends in weights or our own error (OnnxFormatError, TextTowerError, TooLargeError), never another.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OnnxFormatError, readOnnxModel } from '../../src/engine/model/onnx-reader';
import { loadTextWeights, TextTowerError } from '../../src/engine/model/text-weights';
import { TooLargeError } from '../../src/input-limits';
import { ModelFileError } from '../../src/models/errors';
import { describeModel, readTower } from '../../src/models/load';
import { checkReadSize, type ModelSource, type ReadOptions } from '../../src/models/source';
import { byteMutations, jsonMutations, mutateBytes, mutateJson, timed } from './mutate';

const DIR = 'public/models/toy-clip';
const onnx = new Uint8Array(readFileSync(`${DIR}/onnx/text_model.onnx`));
const config = JSON.parse(readFileSync(`${DIR}/config.json`, 'utf8'));

// ---- a few protobuf fields, enough to write a hostile ModelProto by hand ----
const varint = (n: number): number[] => {
  const out: number[] = [];
  while (n >= 128) {
    out.push((n % 128) | 128);
    n = Math.floor(n / 128);
  }
  return [...out, n];
};
const field = (no: number, wire: number) => varint(no * 8 + wire);
const len = (no: number, body: number[]) => [...field(no, 2), ...varint(body.length), ...body];
const num = (no: number, v: number) => [...field(no, 0), ...varint(v)];
const str = (no: number, s: string) => len(no, [...new TextEncoder().encode(s)]);

/** A model whose one initializer declares dims [1e6, 1e6] (10^12 floats) and holds 4 bytes. */
const trillion = Uint8Array.from(len(7, len(5, [...num(1, 1e6), ...num(1, 1e6), ...num(2, 1), ...str(8, 'text_model.embeddings.token_embedding.weight'), ...len(9, [0, 0, 0, 0])])));

describe('hostile ONNX files', () => {
  it('a tensor declaring 10^12 elements is refused by its dims, with the largest weight the config allows', () => {
    expect(() => loadTextWeights(trillion, config, 'text_model.onnx')).toThrow(
      new TooLargeError("text_model.onnx: tensor 'text_model.embeddings.token_embedding.weight' with dims [1000000, 1000000]", '1,000,000,000,000 elements', '84,864 elements (the largest weight of a text tower with D=128, vocab=663, MLP=512)'),
    );
    // Without a config, the reader still refuses the mismatch between dims and data (it never sizes a buffer by dims).
    expect(() => readOnnxModel(trillion)).toThrow(OnnxFormatError);
  });

  it('a config declaring 10^9 layers or a width of 10^6 is refused before anything loops over or sizes from it', () => {
    const cfg = (t: object) => ({ ...config, text_config: { ...config.text_config, ...t } });
    expect(() => loadTextWeights(onnx, cfg({ num_hidden_layers: 1e9 }))).toThrow('config.json text_config.num_hidden_layers is 1,000,000,000, over the limit of 256');
    expect(() => loadTextWeights(onnx, cfg({ hidden_size: 1e6, num_attention_heads: 1 }))).toThrow('config.json text_config.hidden_size is 1,000,000, over the limit of 8,192');
    expect(() => loadTextWeights(onnx, cfg({ hidden_size: 8192, intermediate_size: 32768, num_hidden_layers: 256 }))).toThrow(/config\.json's text tower \(D=8192, layers=256, vocab=663, MLP=32768\) is 768 GiB of weights, over the limit of 4 GiB/);
    expect(() => loadTextWeights(onnx, cfg({ num_hidden_layers: 2.5 }))).toThrow(TextTowerError);
  });

  it('a text_model.onnx far larger than its config\'s tower is refused by its size, before its bytes are read', async () => {
    const files: Record<string, Uint8Array> = Object.fromEntries(['config.json', 'preprocessor_config.json', 'tokenizer.json', 'manifest.json'].map((f) => [f, readFileSync(`${DIR}/${f}`)]));
    let read = false;
    const source: ModelSource = {
      kind: 'disk',
      name: 'toy-clip',
      describe: (p) => `toy-clip/${p}`,
      has: async (p) => p in files || p === 'onnx/text_model.onnx' || p === 'onnx/vision_model.onnx',
      size: async (p) => (p.startsWith('onnx/') ? 10 * 2 ** 30 : files[p]?.length),
      read: async (p: string, o: ReadOptions = {}) => {
        checkReadSize(`toy-clip/${p}`, p.startsWith('onnx/') ? 10 * 2 ** 30 : files[p].length, o);
        if (p.startsWith('onnx/')) read = true;
        return files[p];
      },
    };
    const desc = await describeModel(source);
    await expect(readTower(source, desc, 'text')).rejects.toThrow(
      "toy-clip/onnx/text_model.onnx is 10 GiB, over the limit of 67.5 MiB; a text tower of config.json's shape (D=128, layers=4, vocab=663) holds no more; use the files as published",
    );
    await expect(readTower(source, desc, 'vision')).rejects.toThrow(/vision_model\.onnx is 10 GiB, over the limit of 4\.1 GiB; no CLIP tower this app runs is that large/);
    expect(read).toBe(false);
  });
});

describe('mutated text towers (fast-check)', () => {
  const ours = (e: unknown) => e instanceof OnnxFormatError || e instanceof TextTowerError || e instanceof TooLargeError || e instanceof ModelFileError;

  it('the ONNX bytes flipped, cut, spliced or stamped with huge varints (headers and anywhere): weights or our own error', () => {
    let slowest = 0;
    fc.assert(
      fc.property(byteMutations, (muts) => {
        const bytes = mutateBytes(onnx, muts, 4096);
        const [, ms] = timed(() => {
          try {
            loadTextWeights(bytes, config);
          } catch (e) {
            if (!ours(e)) throw e;
          }
        });
        slowest = Math.max(slowest, ms);
      }),
      { numRuns: 150, seed: 22 },
    );
    console.log(`ONNX reader, byte mutations: slowest case ${slowest.toFixed(1)} ms`);
  });

  it('config.json mutated under a valid file: weights or our own error', () => {
    fc.assert(
      fc.property(jsonMutations, (muts) => {
        try {
          loadTextWeights(onnx, mutateJson(config, muts));
        } catch (e) {
          if (!ours(e)) throw e;
        }
      }),
      { numRuns: 150, seed: 22 },
    );
  });
});
