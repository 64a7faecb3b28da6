import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { scanModelsDir } from '../src/models/scan';
import { modelListPlugin } from '../src/models/vite-plugin';

const GOOD = { id: 'm', name: 'Model M', image_size: 64, embed_dim: 128, logit_scale: 100 };

describe('model list', () => {
  let dir = '';
  afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

  function makeModels(): string {
    dir = mkdtempSync(join(tmpdir(), 'public-'));
    const models = join(dir, 'models');
    mkdirSync(join(models, 'good/onnx'), { recursive: true });
    writeFileSync(join(models, 'good/manifest.json'), JSON.stringify(GOOD));
    writeFileSync(join(models, 'good/config.json'), '{}');
    writeFileSync(join(models, 'good/onnx/text_model.onnx'), new Uint8Array(10));
    // As published: no manifest.json; offered under its folder name.
    mkdirSync(join(models, 'published/onnx'), { recursive: true });
    writeFileSync(join(models, 'published/config.json'), '{}');
    writeFileSync(join(models, 'published/onnx/text_model_fp16.onnx'), new Uint8Array(6));
    writeFileSync(join(models, 'published/onnx/vision_model_quantized.onnx'), new Uint8Array(4));
    mkdirSync(join(models, 'broken'));
    writeFileSync(join(models, 'broken/manifest.json'), '{ nope');
    writeFileSync(join(models, 'broken/config.json'), '{}');
    mkdirSync(join(models, 'bare'));
    mkdirSync(join(models, 'wrong'));
    writeFileSync(join(models, 'wrong/manifest.json'), JSON.stringify({ ...GOOD, embed_dim: '128' }));
    writeFileSync(join(models, 'wrong/config.json'), '{}');
    return models;
  }

  it('lists every folder, with file sizes, and says why a folder cannot be offered', () => {
    const { models } = scanModelsDir(makeModels());
    expect(models.map((m) => m.folder)).toEqual(['bare', 'broken', 'good', 'published', 'wrong']);
    const [bare, broken, good, published, wrong] = models;
    expect(good).toEqual({
      folder: 'good',
      name: 'Model M',
      sizes: { 'manifest.json': JSON.stringify(GOOD).length, 'config.json': 2, 'onnx/text_model.onnx': 10 },
    });
    expect(published).toEqual({
      folder: 'published',
      name: 'published',
      sizes: { 'config.json': 2, 'onnx/text_model_fp16.onnx': 6, 'onnx/vision_model_quantized.onnx': 4 },
    });
    expect(bare.error).toBe(
      'public/models/bare/config.json is missing; a model folder holds the files as transformers.js publishes them (config.json, tokenizer.json, onnx/…)',
    );
    expect(broken.error).toMatch(/^public\/models\/broken\/manifest\.json is not valid JSON: /);
    expect(wrong.error).toBe(
      'public/models/wrong/manifest.json field "embed_dim" must be a positive integer (got "128"); fix manifest.json, or delete it (a folder as published needs none)',
    );
  });

  it('finds the bundled model', () => {
    const { models } = scanModelsDir(resolve(__dirname, '../public/models'));
    const toy = models.find((m) => m.folder === 'toy-clip');
    expect(toy?.error).toBeUndefined();
    expect(toy?.sizes['onnx/vision_model.onnx']).toBeGreaterThan(0);
  });

  it('is empty when there is no models folder', () => {
    expect(scanModelsDir('/nonexistent/models')).toEqual({ models: [] });
  });

  /** Runs the plugin's hooks as Vite would, with just the parts of Vite's objects they use. */
  function resolvedPlugin(publicDir: string, base = '/') {
    const plugin = modelListPlugin();
    (plugin.configResolved as (c: unknown) => void)({ publicDir, root: dir, base });
    return plugin;
  }

  it('writes models/index.json into the build', () => {
    makeModels();
    const emitted: Array<{ fileName: string; source: string }> = [];
    const plugin = resolvedPlugin(dir);
    (plugin.generateBundle as (this: unknown) => void).call({ emitFile: (f: never) => emitted.push(f) });
    expect(emitted).toHaveLength(1);
    expect(emitted[0].fileName).toBe('models/index.json');
    expect(JSON.parse(emitted[0].source).models.map((m: { folder: string }) => m.folder)).toContain('good');
  });

  /** The plugin's dev middlewares as one chain; returns what the request got. */
  function devServer(base: string) {
    const handlers: Array<(req: unknown, res: unknown, next: () => void) => void> = [];
    const plugin = resolvedPlugin(dir, base);
    (plugin.configureServer as (s: unknown) => void)({ middlewares: { use: (h: (typeof handlers)[0]) => handlers.push(h) } });
    return (url: string) => {
      const got = { status: 200, body: '', passedOn: false };
      const res = { setHeader: () => {}, end: (b: string) => (got.body = b), set statusCode(s: number) { got.status = s; } };
      const step = (i: number): void => {
        if (i === handlers.length) got.passedOn = true;
        else handlers[i]({ url }, res, () => step(i + 1));
      };
      step(0);
      return got;
    };
  }

  it('serves models/index.json under the base path in dev', () => {
    makeModels();
    const request = devServer('/app/');
    expect(JSON.parse(request('/app/models/index.json?t=1').body).models).toHaveLength(5);
    expect(request('/models/index.json').passedOn).toBe(true);
  });

  it('answers 404 for a missing model file instead of the SPA fallback', () => {
    makeModels();
    const request = devServer('/');
    expect(request('/models/good/onnx/vision_model.onnx').status).toBe(404);
    expect(request('/models/good/onnx/text_model.onnx').passedOn).toBe(true);
    expect(request('/models/../../etc/passwd').passedOn).toBe(true);
    expect(request('/samples/index.json').passedOn).toBe(true);
  });
});
