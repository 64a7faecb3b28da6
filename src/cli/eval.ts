/** `coop eval`: a learned prompt's (or a feature-only method's exported classifier's) accuracy on every split of an image-folder dataset, overall and per class. */
import { accuracy, argmaxRows, perClassAccuracy } from '../coop/metrics';
import { oneOf, str, ArgError, type Parsed } from './args';
import { loadAll } from './common';
import { defaultCacheDir, ImageFeatureExtractor, type EpChoice } from './image-features';
import { readImageFolder } from './image-folder';
import { Progress } from './progress';
import { readClassifier } from './prompt-load';
import { chooseTextEngine, type EngineChoice } from './text-engine';

export const EVAL_OPTIONS = { model: 'value', prompt: 'value', data: 'value', split: 'value', engine: 'value', ep: 'value', 'ep-strict': 'flag', cache: 'value', json: 'flag' } as const;

export async function runEval(p: Parsed): Promise<void> {
  const progress = new Progress();
  const log = (s: string) => progress.log(s);
  const modelDir = str(p, 'model');
  const promptFile = str(p, 'prompt');
  const dataDir = str(p, 'data');
  if (!modelDir || !promptFile || !dataDir) throw new ArgError('eval needs --model DIR, --prompt FILE and --data DIR');
  const l = await loadAll(modelDir);
  let engine: Awaited<ReturnType<typeof chooseTextEngine>> | null = null;
  const prompt = await readClassifier(promptFile, l, async () => (engine = await chooseTextEngine(l.weights, l.model.manifest.logit_scale, oneOf<EngineChoice>(p, 'engine', ['auto', 'wgsl', 'cpu', 'reference'], 'cpu'), log)));
  log(`${promptFile}: made by ${prompt.madeBy}, ${prompt.classNames.length} classes`);
  const data = readImageFolder(dataDir, str(p, 'split')?.split(','));
  for (const w of data.warnings) log(`warning: ${w}`);
  // The prompt's classes are matched to the data's by name; data classes the prompt does not know are left out.
  const index = new Map(prompt.classNames.map((n, i) => [n, i]));
  const unknown = data.classNames.filter((n) => !index.has(n));
  if (unknown.length) log(`warning: the prompt has no class named ${unknown.map((n) => `'${n}'`).join(', ')}; those images are left out`);
  const dim = l.model.manifest.embed_dim;
  const extractor = await ImageFeatureExtractor.create(l.model, { ep: oneOf<EpChoice>(p, 'ep', ['cpu', 'cuda'], 'cpu'), epStrict: p.opts.has('ep-strict'), cacheDir: str(p, 'cache') ?? defaultCacheDir(), log });
  const report: Record<string, { accuracy: number; n: number; per_class: Record<string, number> }> = {};
  const splits = Object.keys(data.splits).length ? data.splits : { train: data.train };
  for (const [split, items] of Object.entries(splits)) {
    const mapped = items.map((it) => ({ ...it, label: index.get(data.classNames[it.label]) ?? -1 })).filter((it) => it.label >= 0);
    const rows = await extractor.features(mapped.map((m) => ({ file: m.file, views: [{ kind: 'clean' as const }] })), split, progress);
    const keep = mapped.map((_, i) => i).filter((i) => rows[i][0]);
    const f = new Float32Array(keep.length * dim);
    keep.forEach((i, r) => f.set(rows[i][0]!, r * dim));
    const labels = Int32Array.from(keep, (i) => mapped[i].label);
    const pred = argmaxRows(await prompt.logits(f, labels.length), labels.length, prompt.classNames.length);
    const per = perClassAccuracy(pred, labels, prompt.classNames.length);
    report[split] = { accuracy: accuracy(pred, labels), n: labels.length, per_class: Object.fromEntries(prompt.classNames.map((n, c) => [n, per[c]]).filter(([, a]) => Number.isFinite(a as number))) };
  }
  if (extractor.failed.size) {
    log(`skipped ${extractor.failed.size} file(s) that could not be read as images:`);
    for (const m of extractor.failed.values()) log(`  ${m}`);
  }
  (engine as { dispose(): void } | null)?.dispose();
  await extractor.release();
  if (p.opts.has('json')) {
    process.stdout.write(JSON.stringify(report, null, 1) + '\n');
    return;
  }
  for (const [split, r] of Object.entries(report)) {
    process.stdout.write(`${split}: ${(100 * r.accuracy).toFixed(1)}% of ${r.n} images\n`);
    for (const [c, a] of Object.entries(r.per_class)) process.stdout.write(`  ${c.padEnd(24)} ${(100 * a).toFixed(1)}%\n`);
  }
}
