/**
 * Hostile model folders (issue 22): a tokenizer.json with more merges or tokens than CLIP's by far, token ids in the
 * billions, JSON files past their size cap (refused before their bytes are read); then mutated config.json,
 * preprocessor_config.json, tokenizer.json and manifest.json under fast-check: describeModel ends in a description or
 * our own error (ModelFileError, TooLargeError), never another throw.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LIMITS, TooLargeError } from '../../src/input-limits';
import { ModelFileError } from '../../src/models/errors';
import { describeModel } from '../../src/models/load';
import { checkReadSize, type ModelSource, type ReadOptions } from '../../src/models/source';
import { byteMutations, jsonMutations, mutateBytes, mutateJson } from './mutate';

const DIR = 'public/models/toy-clip';
const JSON_FILES = ['config.json', 'preprocessor_config.json', 'tokenizer.json', 'manifest.json'] as const;
const original = Object.fromEntries(JSON_FILES.map((f) => [f, readFileSync(`${DIR}/${f}`)])) as unknown as Record<(typeof JSON_FILES)[number], Uint8Array>;
const parsed = Object.fromEntries(JSON_FILES.map((f) => [f, JSON.parse(new TextDecoder().decode(original[f]))])) as Record<(typeof JSON_FILES)[number], Record<string, unknown>>;

/** A model folder in memory; it reports sizes and honours maxBytes as the real sources do. */
function memorySource(files: Record<string, Uint8Array>, reads: string[] = []): ModelSource {
  const all: Record<string, Uint8Array> = { ...files, 'onnx/text_model.onnx': new Uint8Array(8), 'onnx/vision_model.onnx': new Uint8Array(8) };
  return {
    kind: 'disk',
    name: 'toy-clip',
    describe: (p) => `toy-clip/${p}`,
    has: async (p) => p in all,
    size: async (p) => all[p]?.length,
    read: async (p: string, o: ReadOptions = {}) => {
      if (!(p in all)) throw new ModelFileError(`toy-clip/${p}`, 'is missing');
      checkReadSize(`toy-clip/${p}`, all[p].length, o);
      reads.push(p);
      return all[p];
    },
  };
}
const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const withFile = (f: string, bytes: Uint8Array) => memorySource({ ...original, [f]: bytes });
const failure = async (s: ModelSource) => describeModel(s).then(() => 'accepted', (e: Error) => `${e.name}: ${e.message}`);

describe('hostile model files', () => {
  it('the folder as published is described', async () => {
    expect((await describeModel(memorySource(original))).id).toBe('toy-clip');
  });

  it('a tokenizer.json with 150,000 merges is refused by the count, with CLIP\'s', async () => {
    const tok = structuredClone(parsed['tokenizer.json']) as { model: { merges: string[] } };
    tok.model.merges = Array.from({ length: 150_000 }, (_, i) => `a${i} b`);
    expect(await failure(withFile('tokenizer.json', enc(tok)))).toBe(
      "TooLargeError: toy-clip/tokenizer.json model.merges is 150,000 merges, over the limit of 100,000 merges; use the tokenizer.json published with the model",
    );
  });

  it('a vocabulary of 120,000 tokens, and a token id in the billions (one id would size the table)', async () => {
    const big = structuredClone(parsed['tokenizer.json']) as { model: { vocab: Record<string, number> } };
    for (let i = 0; i < 120_000; i++) big.model.vocab[`t${i}`] = i;
    expect(await failure(withFile('tokenizer.json', enc(big)))).toMatch(/^TooLargeError: toy-clip\/tokenizer\.json model\.vocab is 1\d\d,\d\d\d tokens, over the limit of 100,000 tokens/);
    const far = structuredClone(parsed['tokenizer.json']) as { model: { vocab: Record<string, number> } };
    far.model.vocab['<|endoftext|>'] = 2 ** 40;
    expect(await failure(withFile('tokenizer.json', enc(far)))).toMatch(/^ModelFileError: toy-clip\/tokenizer\.json cannot be read as a CLIP tokenizer \(token "<\|endoftext\|>" has id 1099511627776; ids must be integers from 0 to 99999\)/);
  });

  it('JSON files past their cap are refused by their size before a byte is read', async () => {
    const reads: string[] = [];
    const s = memorySource({ ...original, 'config.json': new Uint8Array(LIMITS.modelJsonBytes + 1).fill(0x20) }, reads);
    const e = await describeModel(s).catch((x: Error) => x);
    expect(e).toBeInstanceOf(TooLargeError);
    expect((e as Error).message).toBe('toy-clip/config.json is 1,048,577 bytes, over the limit of 1,048,576 bytes; use the file as published with the model');
    expect(reads).not.toContain('config.json');
    const tok = await failure(withFile('tokenizer.json', new Uint8Array(LIMITS.tokenizerJsonBytes + 1)));
    expect(tok).toBe('TooLargeError: toy-clip/tokenizer.json is 33,554,433 bytes, over the limit of 33,554,432 bytes; use the file as published with the model');
  });
});

describe('mutated model files (fast-check)', () => {
  const ours = (e: unknown) => e instanceof ModelFileError || e instanceof TooLargeError;

  it('config, preprocessor config, tokenizer and manifest with values replaced, removed or repeated: described or our own error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...JSON_FILES), jsonMutations, async (file, muts) => {
        await describeModel(withFile(file, enc(mutateJson(parsed[file], muts)))).catch((e) => {
          if (!ours(e)) throw e;
        });
      }),
      { numRuns: 300, seed: 22 },
    );
  });

  it('their bytes flipped, cut or spliced: described or our own error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...JSON_FILES), byteMutations, async (file, muts) => {
        await describeModel(withFile(file, mutateBytes(original[file], muts))).catch((e) => {
          if (!ours(e)) throw e;
        });
      }),
      { numRuns: 200, seed: 22 },
    );
  });
});

describe('deeply nested values in model files', () => {
  it('a value nested 200,000 deep in any of the JSON files ends in our own error, never a stack overflow', async () => {
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    const cases: Array<[(typeof JSON_FILES)[number], string]> = [
      ['config.json', 'model_type'],
      ['config.json', 'projection_dim'],
      ['manifest.json', 'id'],
      ['manifest.json', 'embed_dim'],
      ['preprocessor_config.json', 'crop_size'],
      ['tokenizer.json', 'model'],
    ];
    for (const [file, key] of cases) {
      const text = JSON.stringify({ ...parsed[file], [key]: 'DEEP' }).replace('"DEEP"', deep);
      const e = await describeModel(withFile(file, new TextEncoder().encode(text))).then(() => null, (x: unknown) => x);
      expect(e instanceof ModelFileError || e instanceof TooLargeError, `${file} ${key}: ${String(e)}`).toBe(true);
    }
  });
});
