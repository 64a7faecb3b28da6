import { join } from 'node:path';
import ort from 'onnxruntime-node';

async function fetchOk(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response;
}

/**
 * Zero-shot predictions computed independently in Node: onnxruntime-node on the CPU, on the same
 * preprocessed pixels the app fed its image encoder, with the project's tokenizer. The model files
 * come from the server under test, so the reference uses exactly the weights the browser got.
 */
export async function createReference(root, baseUrl, folder = 'toy-clip') {
  const dir = `${baseUrl}models/${folder}/`;
  const manifest = await (await fetchOk(dir + 'manifest.json')).json();
  const { tokenizerFromHfJson } = await import(join(root, 'src/tokenizer/index.ts'));
  const tokenizer = tokenizerFromHfJson(await (await fetchOk(dir + 'tokenizer.json')).json());
  const session = async (file) => ort.InferenceSession.create(new Uint8Array(await (await fetchOk(dir + file)).arrayBuffer()));
  const text = await session('onnx/text_model.onnx');
  const vision = await session('onnx/vision_model.onnx');
  const dim = manifest.embed_dim;
  const ctx = manifest.context_length ?? 77;
  const s = manifest.image_size;

  const unit = (v) => {
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  };

  async function templateFeatures(names, template) {
    const ids = new BigInt64Array(names.length * ctx);
    names.forEach((n, k) => tokenizer.tokenize(template.replaceAll('{}', n), { contextLength: ctx }).forEach((id, i) => (ids[k * ctx + i] = BigInt(id))));
    const out = await text.run({ input_ids: new ort.Tensor('int64', ids, [names.length, ctx]) });
    const e = out.text_embeds.data;
    return names.map((_, k) => unit(Array.from(e.subarray(k * dim, (k + 1) * dim))));
  }

  /** CLIP's prompt ensembling: mean of unit features over templates, renormalised. */
  async function classFeatures(names, templates) {
    const perTemplate = await Promise.all(templates.map((t) => templateFeatures(names, t)));
    return names.map((_, k) => unit(Array.from({ length: dim }, (_, j) => perTemplate.reduce((acc, f) => acc + f[k][j], 0))));
  }

  /** Probabilities over `names` for each image's pixels ([3, S, S] floats). */
  async function predict(pixelsList, names, templates = ['a photo of a {}.']) {
    const classes = await classFeatures(names, templates);
    const batch = new Float32Array(pixelsList.length * 3 * s * s);
    pixelsList.forEach((p, i) => batch.set(p, i * 3 * s * s));
    const out = await vision.run({ pixel_values: new ort.Tensor('float32', batch, [pixelsList.length, 3, s, s]) });
    const e = out.image_embeds.data;
    return pixelsList.map((_, i) => {
      const img = unit(Array.from(e.subarray(i * dim, (i + 1) * dim)));
      const logits = classes.map((c) => manifest.logit_scale * c.reduce((acc, x, j) => acc + x * img[j], 0));
      const max = Math.max(...logits);
      const exps = logits.map((l) => Math.exp(l - max));
      const sum = exps.reduce((a, b) => a + b, 0);
      const probs = exps.map((x) => x / sum);
      const top = probs.indexOf(Math.max(...probs));
      return { probs, top1: names[top] };
    });
  }

  return { manifest, predict };
}
