import { mkdtempSync, readFileSync, writeFileSync, cpSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkManifestAgainstConfigs, validateManifest } from '../src/models/validate';
import { parseJsonFile } from '../src/models/errors';
import { loadModelFolder } from '../src/models/load';
import type { ModelManifest } from '../src/models/types';

const TOY = resolve(__dirname, '../public/models/toy-clip');
const readJson = (f: string) => JSON.parse(readFileSync(join(TOY, f), 'utf8'));

const manifest = (): ModelManifest => readJson('manifest.json');
const config = () => readJson('config.json');
const preprocessor = () => readJson('preprocessor_config.json');

describe('manifest validation', () => {
  it('accepts the bundled manifest against its configs', () => {
    const m = validateManifest(manifest(), 'toy-clip');
    expect(() => checkManifestAgainstConfigs(m, config(), preprocessor(), 'toy-clip')).not.toThrow();
  });

  it('names the field a manifest lacks or gets wrong', () => {
    const m = manifest() as Record<string, unknown>;
    delete m.embed_dim;
    expect(() => validateManifest(m, 'toy-clip')).toThrow(
      'public/models/toy-clip/manifest.json field "embed_dim" must be a positive integer (it is missing)',
    );
    expect(() => validateManifest({ ...manifest(), logit_scale: -1 }, 'toy-clip')).toThrow(
      'field "logit_scale" must be a positive number (got -1)',
    );
    expect(() => validateManifest([], 'x')).toThrow('public/models/x/manifest.json must hold a JSON object');
  });

  it('refuses dims that disagree with config.json, naming both fields', () => {
    const m = { ...manifest(), embed_dim: 256 };
    expect(() => checkManifestAgainstConfigs(m, config(), preprocessor(), 'toy-clip')).toThrow(
      'public/models/toy-clip/manifest.json disagrees with config.json: manifest embed_dim is 256 but config.json projection_dim is 128',
    );
    const c = config();
    c.text_config.hidden_size = 512;
    expect(() => checkManifestAgainstConfigs(manifest(), c, preprocessor(), 'toy-clip')).toThrow(
      'manifest text_width is 128 but config.json text_config.hidden_size is 512',
    );
  });

  it('refuses an image size that disagrees with the preprocessor crop', () => {
    const p = preprocessor();
    p.crop_size.width = 224;
    expect(() => checkManifestAgainstConfigs(manifest(), config(), p, 'toy-clip')).toThrow(
      'disagrees with preprocessor_config.json: manifest image_size is 64 but preprocessor_config.json crop_size.width is 224',
    );
  });

  it('skips fields a config leaves to defaults', () => {
    const c = config();
    delete c.projection_dim;
    delete c.text_config.projection_dim;
    delete c.vision_config.projection_dim;
    expect(() => checkManifestAgainstConfigs({ ...manifest(), embed_dim: 512 }, c, preprocessor(), 't')).not.toThrow();
  });

  it('names the file in JSON syntax errors', () => {
    expect(() => parseJsonFile('{"a": ', 'public/models/m/config.json')).toThrow(
      /^public\/models\/m\/config\.json is not valid JSON: /,
    );
  });
});

describe('loadModelFolder', () => {
  let dir = '';
  const realFetch = globalThis.fetch;
  afterEach(() => {
    globalThis.fetch = realFetch;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A copy of the bundled folder served through a fake fetch, so files can be broken per test. */
  function serveCopy(): string {
    dir = mkdtempSync(join(tmpdir(), 'models-'));
    cpSync(TOY, join(dir, 'toy-clip'), { recursive: true });
    globalThis.fetch = (async (url: string) => {
      try {
        return new Response(readFileSync(join(dir, url.replace(/^\/models\//, ''))));
      } catch {
        return new Response('not found', { status: 404 });
      }
    }) as typeof fetch;
    return join(dir, 'toy-clip');
  }

  const entry = { folder: 'toy-clip', name: 'Toy', sizes: {} };

  it('loads the bundled model and reports streamed bytes', async () => {
    serveCopy();
    let last = 0;
    const m = await loadModelFolder(entry, { baseUrl: '/', onProgress: (p) => (last = p.loaded) });
    expect(m.manifest.embed_dim).toBe(128);
    expect(m.tokenizer.eosId).toBe(m.tokenizer.vocabSize - 1);
    expect(last).toBeGreaterThan(m.textModel.byteLength + m.visionModel.byteLength);
  });

  it('says which file is not valid JSON', async () => {
    writeFileSync(join(serveCopy(), 'config.json'), '{ "model_type": clip }');
    await expect(loadModelFolder(entry, { baseUrl: '/' })).rejects.toThrow(
      /^public\/models\/toy-clip\/config\.json is not valid JSON: Unexpected token/,
    );
  });

  it('says which file is missing', async () => {
    rmSync(join(serveCopy(), 'onnx/vision_model.onnx'));
    await expect(loadModelFolder(entry, { baseUrl: '/' })).rejects.toThrow(
      'public/models/toy-clip/onnx/vision_model.onnx is missing, and so are the fp16 and quantized files; add the image tower as ' +
        'transformers.js publishes it (onnx/vision_model.onnx, onnx/vision_model_fp16.onnx, onnx/vision_model_quantized.onnx)',
    );
    // Told the folder's files (the model index), a read of a file that went missing since says so too.
    await expect(loadModelFolder({ ...entry, sizes: { 'onnx/vision_model.onnx': 1, 'onnx/text_model.onnx': 1, 'config.json': 1 } }, { baseUrl: '/' })).rejects.toThrow(
      'public/models/toy-clip/onnx/vision_model.onnx is missing (HTTP 404); add the file to the model folder, or choose another model',
    );
  });

  it('refuses a manifest that disagrees with config.json before downloading ONNX', async () => {
    const folder = serveCopy();
    writeFileSync(join(folder, 'manifest.json'), JSON.stringify({ ...manifest(), image_size: 224 }));
    rmSync(join(folder, 'onnx'), { recursive: true });
    await expect(loadModelFolder(entry, { baseUrl: '/' })).rejects.toThrow(
      'manifest image_size is 224 but config.json vision_config.image_size is 64',
    );
  });
});
