import { describe, expect, it } from 'vitest';
import { ImageFeatureCache } from '../src/encoders/feature-cache';
import { featurizeImages, type BatchImageEncoder } from '../src/encoders/image-features';
import { contentHash } from '../src/encoders/content-hash';
import { enqueueRun } from '../src/encoders/run-queue';
import { rowsOf } from '../src/encoders/check-output';
import { backendInfo, requestedEp } from '../src/encoders/backend';
import { owned } from '../src/encoders/worker-protocol';
import type { Tensor } from 'onnxruntime-web/webgpu';

const PIXELS = 3 * 2 * 2;

/** A fake tower whose "feature" of an image is the first pixel value and the batch size it ran in. */
function fakeEncoder() {
  const batches: number[] = [];
  const encoder: BatchImageEncoder = {
    pixelsPerImage: PIXELS,
    async encode(pixels, count) {
      batches.push(count);
      const out = new Float32Array(count * 2);
      for (let i = 0; i < count; i++) out.set([pixels[i * PIXELS], count], i * 2);
      return out;
    },
  };
  return { encoder, batches };
}

const blob = (text: string) => new Blob([text]);
// The fake decoder reads the file's text as a number; "bad" is not an image.
const toPixels = async (b: Blob) => {
  const text = await b.text();
  if (text === 'bad') throw new Error('is not an image');
  return new Float32Array(PIXELS).fill(Number(text));
};

describe('featurizeImages', () => {
  it('encodes in batches, in order, and reports progress', async () => {
    const { encoder, batches } = fakeEncoder();
    const progress: string[] = [];
    const files = ['1', '2', '3', '4', '5'].map(blob);
    const results = await featurizeImages(files, {
      encoder,
      toPixels,
      cache: new ImageFeatureCache(),
      modelKey: 'm',
      batchSize: 2,
      onProgress: (d, t) => progress.push(`${d}/${t}`),
    });
    expect(batches).toEqual([2, 2, 1]);
    expect(results.map((r) => r.feature![0])).toEqual([1, 2, 3, 4, 5]);
    expect(progress).toEqual(['0/5', '2/5', '4/5', '5/5']);
  });

  it('reuses cached features by content, per model, and encodes duplicates once', async () => {
    const { encoder, batches } = fakeEncoder();
    const cache = new ImageFeatureCache();
    const opts = { encoder, toPixels, cache, modelKey: 'm', batchSize: 8 };
    await featurizeImages([blob('7')], opts);
    const again = await featurizeImages([blob('7'), blob('8'), blob('8')], opts);
    expect(batches).toEqual([1, 1]);
    expect(again.map((r) => r.feature![0])).toEqual([7, 8, 8]);
    expect(again[1].hash).toBe(await contentHash(new TextEncoder().encode('8')));
    await featurizeImages([blob('7')], { ...opts, modelKey: 'other' });
    expect(batches).toEqual([1, 1, 1]);
  });

  it('gives a bad file an error and still encodes the others', async () => {
    const { encoder } = fakeEncoder();
    const results = await featurizeImages([blob('1'), blob('bad'), blob('3')], {
      encoder,
      toPixels,
      cache: new ImageFeatureCache(),
      modelKey: 'm',
    });
    expect(results[1].error).toBe('is not an image');
    expect(results[0].feature![0]).toBe(1);
    expect(results[2].feature![0]).toBe(3);
  });

  it('refuses preprocessing of the wrong size', async () => {
    const { encoder } = fakeEncoder();
    const [r] = await featurizeImages([blob('1')], {
      encoder,
      toPixels: async () => new Float32Array(5),
      cache: new ImageFeatureCache(),
      modelKey: 'm',
    });
    expect(r.error).toBe('preprocessing gave 5 values, expected 12');
  });
});

describe('encoder helpers', () => {
  it('runs queued jobs one at a time, even after a failure', async () => {
    const log: string[] = [];
    const job = (name: string, fail = false) => async () => {
      log.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, 5));
      log.push(`end ${name}`);
      if (fail) throw new Error(name);
      return name;
    };
    const a = enqueueRun(job('a', true));
    const b = enqueueRun(job('b'));
    await expect(a).rejects.toThrow('a');
    expect(await b).toBe('b');
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b']);
  });

  it('checks an output shape against the manifest, naming the file', () => {
    const t = { dims: [2, 64], type: 'float32', data: new Float32Array(128) } as unknown as Tensor;
    expect(() => rowsOf(t, 'image_embeds', 2, 128, 'public/models/m/onnx/vision_model.onnx')).toThrow(
      'public/models/m/onnx/vision_model.onnx output "image_embeds" has shape [2, 64], expected [2, 128] (manifest.json embed_dim is 128)',
    );
    expect(rowsOf(t, 'x', 2, 64, 'f')).toBe(t.data);
  });

  it('reads ?ep= from the page URL', () => {
    expect(requestedEp('?ep=wasm')).toBe('wasm');
    expect(requestedEp('?x=1&ep=webgpu')).toBe('webgpu');
    expect(requestedEp('?ep=cuda')).toBeUndefined();
  });

  it("hands the worker a buffer to transfer: a whole view's own, or a copy of a view into a larger buffer", () => {
    const whole = new Float32Array([1, 2, 3]);
    const a = owned(whole);
    expect(a.view).toBe(whole);
    expect(a.transfer).toEqual([whole.buffer]);
    // Transferring detaches the sender's view: the page no longer holds the bytes.
    structuredClone(a.view, { transfer: a.transfer });
    expect(whole.length).toBe(0);

    const big = new Uint8Array([1, 2, 3, 4, 5]);
    const part = big.subarray(1, 3);
    const b = owned(part);
    expect(Array.from(b.view)).toEqual([2, 3]);
    expect(b.view.buffer).not.toBe(big.buffer);
    structuredClone(b.view, { transfer: b.transfer });
    // The rest of the larger buffer is the sender's still.
    expect(Array.from(big)).toEqual([1, 2, 3, 4, 5]);
  });

  it("tells the page the worker's backend without its adapter and device (they cannot be cloned)", () => {
    const gpu = { adapter: {} as GPUAdapter, device: {} as GPUDevice, description: 'google swiftshader', fallback: true };
    const info = backendInfo({ ep: 'webgpu', gpu });
    expect(info).toEqual({ ep: 'webgpu', gpu: { description: 'google swiftshader', fallback: true } });
    expect(() => structuredClone(info)).not.toThrow();
    expect(backendInfo({ ep: 'wasm', reason: 'r' })).toEqual({ ep: 'wasm', reason: 'r' });
  });
});
