/**
 * Encodes DIR/pixels.bin (float32 [N, 3, S, S], header DIR/pixels.json) with a model's vision_model.onnx through
 * onnxruntime-node and writes DIR/features.bin (float32 [N, E], L2-normalized). For tools/coop-trace/demo_views.py.
 *   npx tsx tools/coop-trace/encode-pixels.ts DIR [MODEL_DIR]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { normalizeRows } from '../../src/coop/zero-shot';

const dir = process.argv[2];
const model = process.argv[3] ?? 'public/models/toy-clip';
const meta = JSON.parse(readFileSync(path.join(dir, 'pixels.json'), 'utf8')) as { shape: number[] };
const [n, c, h, w] = meta.shape;
const buf = readFileSync(path.join(dir, 'pixels.bin'));
const px = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
const session = await ort.InferenceSession.create(path.join(model, 'onnx', 'vision_model.onnx'), { executionProviders: ['cpu'] });
const per = c * h * w;
const parts: Float32Array[] = [];
let dim = 0;
for (let i = 0; i < n; i += 64) {
  const m = Math.min(64, n - i);
  const out = await session.run({ pixel_values: new ort.Tensor('float32', px.slice(i * per, (i + m) * per), [m, c, h, w]) });
  dim = out.image_embeds.dims[1] as number;
  parts.push(normalizeRows(out.image_embeds.data as Float32Array, dim));
}
const all = new Float32Array(n * dim);
let o = 0;
for (const p of parts) {
  all.set(p, o);
  o += p.length;
}
writeFileSync(path.join(dir, 'features.bin'), Buffer.from(all.buffer));
console.log(`${n} × ${dim} features → ${path.join(dir, 'features.bin')}`);
