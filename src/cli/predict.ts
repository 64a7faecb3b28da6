/**
 * `coop predict`: each image's top classes under a learned prompt (probabilities softmax(logit_scale · cos)) or a
 * feature-only method's exported classifier (softmax of its logits).
 */
import { softmaxRows } from '../coop/zero-shot';
import { ArgError, oneOf, positiveInt, str, type Parsed } from './args';
import { loadAll } from './common';
import { defaultCacheDir, ImageFeatureExtractor } from './image-features';
import { Progress } from './progress';
import { readClassifier } from './prompt-load';
import { chooseTextEngine, type EngineChoice } from './text-engine';

export const PREDICT_OPTIONS = { model: 'value', prompt: 'value', top: 'value', ep: 'value', 'ep-strict': 'flag', engine: 'value', cache: 'value', json: 'flag' } as const;

export async function runPredict(p: Parsed): Promise<void> {
  const progress = new Progress();
  const log = (s: string) => progress.log(s);
  const modelDir = str(p, 'model');
  const promptFile = str(p, 'prompt');
  if (!modelDir || !promptFile) throw new ArgError('predict needs --model DIR and --prompt FILE, then one or more image files');
  if (!p.positional.length) throw new ArgError('predict needs one or more image files after the options');
  const l = await loadAll(modelDir);
  let engine: Awaited<ReturnType<typeof chooseTextEngine>> | null = null;
  const prompt = await readClassifier(promptFile, l, async () => (engine = await chooseTextEngine(l.weights, l.model.manifest.logit_scale, oneOf<EngineChoice>(p, 'engine', ['wgsl', 'cpu', 'reference'], 'cpu'), log)));
  log(`${promptFile}: made by ${prompt.madeBy}, ${prompt.classNames.length} classes`);
  const dim = l.model.manifest.embed_dim;
  const K = prompt.classNames.length;
  const top = Math.min(positiveInt(p, 'top', 5), K);
  const ep = str(p, 'ep') === 'cuda' ? 'cuda' : 'cpu';
  const extractor = await ImageFeatureExtractor.create(l.model, { ep, epStrict: p.opts.has('ep-strict'), cacheDir: str(p, 'cache') ?? defaultCacheDir(), log });
  const rows = await extractor.features(p.positional.map((file) => ({ file, views: [{ kind: 'clean' as const }] })), 'images', progress);
  const out: Array<{ image: string; top?: Array<{ class: string; probability: number }>; error?: string }> = [];
  for (const [i, file] of p.positional.entries()) {
    const f = rows[i][0];
    if (!f) {
      out.push({ image: file, error: extractor.failed.get(file) ?? 'could not be read' });
      continue;
    }
    const logits = await prompt.logits(f, 1);
    const prob = softmaxRows(logits, K);
    const order = Array.from({ length: K }, (_, c) => c).sort((a, b) => prob[b] - prob[a]).slice(0, top);
    out.push({ image: file, top: order.map((c) => ({ class: prompt.classNames[c], probability: prob[c] })) });
  }
  (engine as { dispose(): void } | null)?.dispose();
  await extractor.release();
  if (p.opts.has('json')) {
    process.stdout.write(JSON.stringify(out, null, 1) + '\n');
    return;
  }
  for (const r of out) {
    if (r.error) {
      process.stdout.write(`${r.image}: skipped: ${r.error}\n`);
      continue;
    }
    process.stdout.write(`${r.image}\n`);
    for (const t of r.top!) process.stdout.write(`  ${(100 * t.probability).toFixed(1).padStart(5)}%  ${t.class}\n`);
  }
  const bad = out.filter((r) => r.error).length;
  if (bad) log(`${bad} of ${out.length} file(s) could not be read as images and were skipped`);
}
