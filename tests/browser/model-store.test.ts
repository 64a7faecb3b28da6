/**
 * The browser's model store (OPFS) in Chromium: add a model from a folder (files as a picker gives them), list it
 * with its size on disk, refuse one that needs more room than is free (the message says how much), resume a copy
 * cut short, read it back with no network, edit its logit scale, remove it without touching another.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addModel } from '../../src/models/sources/add-model';
import { BrowserModelStore, QuotaError, quotaMessage, StoreSource } from '../../src/models/sources/browser-store';
import { FolderSource, folderFromFileList } from '../../src/models/sources/folder';

function file(path: string, bytes: Uint8Array | string): File {
  const f = new File([bytes as BlobPart], path.split('/').pop()!);
  Object.defineProperty(f, 'webkitRelativePath', { value: path });
  return f;
}

const text = new Uint8Array(300_000).map((_, i) => (i * 7) & 255);
const vision = new Uint8Array(500_000).map((_, i) => (i * 13) & 255);
const folderFiles = (name: string) => [
  file(`${name}/config.json`, '{"model_type":"clip"}'),
  file(`${name}/preprocessor_config.json`, '{}'),
  file(`${name}/tokenizer.json`, '{}'),
  file(`${name}/onnx/text_model.onnx`, text),
  file(`${name}/onnx/vision_model_fp16.onnx`, vision),
];

let store: BrowserModelStore;
const noCheck = async () => {};

beforeAll(async () => {
  store = await BrowserModelStore.open();
  for (const m of await store.list()) await store.remove(m.key);
});
afterAll(async () => {
  for (const m of await store.list()) await store.remove(m.key);
});

describe('browser model store (OPFS)', () => {
  it('adds a folder, lists it with its size, reads it back, keeps the edited logit scale', async () => {
    const from = folderFromFileList(folderFiles('my-clip'));
    expect(from.name).toBe('my-clip');
    const meta = await addModel(store, { from, visionDtype: 'fp16', textDtype: 'fp32' }, { check: noCheck });
    expect(meta.complete).toBe(true);
    const listed = await store.list();
    expect(listed.map((m) => m.name)).toEqual(['my-clip']);
    expect(listed[0].bytes).toBe(text.length + vision.length + 21 + 2 + 2);
    const source = await StoreSource.open(listed[0]);
    expect(await source.read('onnx/vision_model_fp16.onnx')).toEqual(vision);
    expect(await source.has('onnx/vision_model.onnx')).toBe(false);
    await store.setLogitScale(meta.key, 42.5);
    expect((await store.get(meta.key))?.logitScale).toBe(42.5);
  });

  it('says which dtypes a folder has when the one picked is missing, and stores nothing', async () => {
    const from = folderFromFileList(folderFiles('other-clip'));
    await expect(addModel(store, { from, visionDtype: 'quantized', textDtype: 'fp32' }, { check: noCheck })).rejects.toThrow(
      /other-clip\/onnx\/vision_model_quantized.onnx is missing.*as fp16: pick that dtype/,
    );
    expect((await store.list()).map((m) => m.name)).toEqual(['my-clip']);
  });

  it('refuses a model that needs more than is free, saying how much', async () => {
    const from = folderFromFileList(folderFiles('big-clip'));
    const error = await addModel(store, { from, visionDtype: 'fp16', textDtype: 'fp32' }, { check: noCheck, freeBytes: async () => 100_000 }).catch((e) => e);
    expect(error).toBeInstanceOf(QuotaError);
    expect((error as Error).message).toBe(quotaMessage(800_025, 100_000, 'the folder big-clip'));
    expect((error as Error).message).toMatch(/needs 0\.8 MB more .* only 0\.1 MB is free\. Remove a stored model/);
    expect((await store.list()).map((m) => m.name)).toEqual(['my-clip']);
  });

  it('a refused model leaves nothing behind; the other stays', async () => {
    const from = folderFromFileList(folderFiles('not-clip'));
    const refuse = async () => {
      throw new Error('config.json has model_type "bert"');
    };
    await expect(addModel(store, { from, visionDtype: 'fp16', textDtype: 'fp32' }, { check: refuse })).rejects.toThrow(/bert/);
    expect((await store.list()).map((m) => m.name)).toEqual(['my-clip']);
  });

  it('a copy stopped midway resumes from what is stored', async () => {
    const files = new Map(folderFiles('resumed').map((f) => [(f as File & { webkitRelativePath: string }).webkitRelativePath.split('/').slice(1).join('/'), f]));
    const from = new FolderSource('resumed', files);
    const controller = new AbortController();
    let seen = 0;
    const stopped = addModel(
      store,
      { from, visionDtype: 'fp16', textDtype: 'fp32' },
      {
        check: noCheck,
        signal: controller.signal,
        onProgress: (s) => {
          seen = s.loaded;
          if (s.files.some((f) => f.path === 'onnx/text_model.onnx' && f.loaded > 0)) controller.abort(new DOMException('Cancelled', 'AbortError'));
        },
      },
    );
    await expect(stopped).rejects.toThrow(/Cancelled/);
    const partial = (await store.list()).find((m) => m.name === 'resumed')!;
    expect(partial.complete).toBe(false);
    expect(partial.bytes).toBeGreaterThan(0);
    expect(seen).toBeGreaterThan(0);
    let firstLoaded = -1;
    const meta = await addModel(store, { from, visionDtype: 'fp16', textDtype: 'fp32' }, { check: noCheck, onProgress: (s) => firstLoaded < 0 && (firstLoaded = s.loaded) });
    expect(firstLoaded).toBe(partial.bytes);
    expect(meta.complete).toBe(true);
    expect(await (await StoreSource.open(meta)).read('onnx/text_model.onnx')).toEqual(text);
  });

  it('remove deletes one model and its files only', async () => {
    const [first, ...rest] = await store.list();
    await store.remove(first.key);
    expect((await store.list()).map((m) => m.key)).toEqual(rest.map((m) => m.key));
  });
});
