// The bundled model's ONNX files must reproduce the PyTorch model they were exported from
// (tools/toy-clip/export.py writes the inputs and PyTorch's outputs into tests/fixtures/toy-clip-io.bin).
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadFixture, TOY_CLIP } from './helpers/fixture';

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('toy-clip ONNX export vs PyTorch', () => {
  const fx = loadFixture('toy-clip-io.bin');

  it('text_model.onnx reproduces text_embeds and last_hidden_state', async () => {
    const session = await ort.InferenceSession.create(path.join(TOY_CLIP, 'onnx', 'text_model.onnx'));
    const ids = fx.i32('input_ids');
    const [b, n] = fx.shape('input_ids');
    const out = await session.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [b, n]) });
    const e1 = maxAbsDiff(out.text_embeds.data as Float32Array, fx.f32('text_embeds'));
    const e2 = maxAbsDiff(out.last_hidden_state.data as Float32Array, fx.f32('last_hidden_state'));
    console.log(`text_model.onnx max abs error: text_embeds ${e1.toExponential(2)}, last_hidden_state ${e2.toExponential(2)}`);
    expect(e1).toBeLessThan(1e-4);
    expect(e2).toBeLessThan(1e-4);
  });

  it('vision_model.onnx reproduces image_embeds', async () => {
    const session = await ort.InferenceSession.create(path.join(TOY_CLIP, 'onnx', 'vision_model.onnx'));
    const px = fx.f32('pixel_values');
    const out = await session.run({ pixel_values: new ort.Tensor('float32', px, fx.shape('pixel_values')) });
    const e = maxAbsDiff(out.image_embeds.data as Float32Array, fx.f32('image_embeds'));
    console.log(`vision_model.onnx max abs error: image_embeds ${e.toExponential(2)}`);
    expect(e).toBeLessThan(1e-4);
  });
});
