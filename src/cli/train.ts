/**
 * `coop train`: the paper's few-shot protocol on an image-folder dataset (CoOp §4.1). For every shot count and seed:
 * Dassl's few-shot sample of the training set, the linear probe on its clean features, and CoOp for every asked
 * configuration through the app's own trainer (src/coop/trainer.ts) and text engine; zero-shot CLIP and prompt
 * ensembling as the reference rows. The table (Markdown + JSON) and every run's learned prompt go to --out.
 *
 * --base-to-new (CoCoOp's protocol): the first --base classes (label order) train, every split is scored on base
 * classes among base classes and on new classes among new classes, with zero-shot beside.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ContextVectors } from '../coop/context-init';
import { sampleFewShot } from '../coop/fewshot';
import { linearProbe, probePredict } from '../coop/linear-probe';
import { accuracy } from '../coop/metrics';
import { parsePromptFile, promptFileName, serializePromptFile, type LearnedPrompt } from '../coop/prompt-file';
import { baseToNewMarkdown, buildBaseToNew, buildTable, tableMarkdown, type RunRecord } from '../coop/results-table';
import { withDefaults, type ClassTokenPosition, type TrainSettings } from '../coop/settings';
import { CoopTrainer } from '../coop/trainer';
import { DEFAULT_METHOD_SETTINGS, learnsPrompt, METHOD_LABELS, parseMethods, type Method, type MethodSettings } from '../coop/method-settings';
import { methodLossAndGrad, promptMethodConfig } from '../coop/prompt-methods';
import { buildTipCache, searchTipParams, tipLogits, trainTipAdapterF, TIP_ADAPTER_DEFAULTS, TIP_ADAPTER_F_DEFAULTS, type TipParams } from '../coop/tip-adapter';
import { argmaxRows } from '../coop/metrics';
import { baseToNewAccuracies, classSplitFirst, subsetClasses, type Predictor } from '../coop/base-to-new';
import { DEFAULT_TEMPLATE, TEMPLATES } from '../app/zero-shot/templates';
import type { TextEngineLike } from '../worker/text-engine';
import { ArgError, intList, oneOf, positiveInt, positiveNumber, str, type Parsed } from './args';
import { handTextFeatures, initialContext, learnedTextFeatures, loadAll, predict, promptSpec, type Loaded } from './common';
import { defaultCacheDir, ImageFeatureExtractor, type EpChoice } from './image-features';
import { readImageFolder, type ImageItem } from './image-folder';
import { formatDuration, Progress } from './progress';
import { chooseTextEngine, defaultThreads, type EngineChoice } from './text-engine';

export const TRAIN_OPTIONS = {
  model: 'value', data: 'value', shots: 'value', seeds: 'value', csc: 'optional', position: 'value', 'n-ctx': 'value',
  init: 'value', epochs: 'value', views: 'value', engine: 'value', ep: 'value', 'ep-strict': 'flag', out: 'value',
  'base-to-new': 'flag', base: 'value', lr: 'value', 'batch-size': 'value', cache: 'value', splits: 'value', quiet: 'flag',
  'save-features': 'flag', threads: 'value',
  method: 'value', 'kg-weight': 'value', 'prograd-lambda': 'value', 'prograd-t': 'value',
} as const;

interface Config {
  csc: boolean;
  label: string;
}

interface Split {
  name: string;
  features: Float32Array;
  labels: Int32Array;
}

const pct = (x: number) => (100 * x).toFixed(1);

function configsFrom(p: Parsed): boolean[] {
  const v = p.opts.get('csc');
  if (v === undefined || v === 'off' || v === 'false') return [false];
  if (v === true || v === 'on' || v === 'true') return [true];
  if (v === 'both') return [false, true];
  throw new ArgError(`--csc takes no value (class-specific context), or 'both' to train unified and class-specific, got '${v}'`);
}

export function settingsFrom(p: Parsed): Omit<TrainSettings, 'csc' | 'seed'> {
  const d = withDefaults();
  const initArg = str(p, 'init');
  const epochsArg = str(p, 'epochs');
  let epochs: TrainSettings['epochs'] = 'auto';
  if (epochsArg !== undefined && epochsArg !== 'auto') {
    const e = Number(epochsArg);
    if (!Number.isInteger(e) || e < 1) throw new ArgError(`--epochs takes 'auto' (by shots, as the original: 50 / 100 / 200 for 1 / 2–4 / 8+ shots) or a positive integer, got '${epochsArg}'`);
    epochs = e;
  }
  return {
    ...d,
    nCtx: positiveInt(p, 'n-ctx', d.nCtx),
    position: oneOf<ClassTokenPosition>(p, 'position', ['end', 'middle', 'front'], 'end'),
    init: initArg === undefined || initArg === 'random' ? 'random' : 'words',
    initWords: initArg === undefined || initArg === 'random' ? d.initWords : initArg,
    epochs,
    views: positiveInt(p, 'views', d.views),
    lr: positiveNumber(p, 'lr', d.lr),
    batchSize: positiveInt(p, 'batch-size', d.batchSize),
  };
}

function configLabel(s: Omit<TrainSettings, 'seed'>, method: Method = 'coop'): string {
  if (!learnsPrompt(method)) return METHOD_LABELS[method];
  const init = s.init === 'random' ? `M${s.nCtx}` : `"${s.initWords}"`;
  return `${METHOD_LABELS[method]} ${s.csc ? 'CSC' : 'unified'} ${s.position} ${init}`;
}

function methodSettingsFrom(p: Parsed): MethodSettings {
  const d = DEFAULT_METHOD_SETTINGS;
  return {
    kgWeight: positiveNumber(p, 'kg-weight', d.kgWeight),
    progradT: positiveNumber(p, 'prograd-t', d.progradT),
    progradLambda: positiveNumber(p, 'prograd-lambda', d.progradLambda),
  };
}

function methodsFrom(p: Parsed): Method[] {
  try {
    return parseMethods(str(p, 'method') ?? 'coop');
  } catch (e) {
    throw new ArgError(`--method: ${(e as Error).message}`);
  }
}

function stack(rows: (Float32Array | null)[], dim: number): Float32Array {
  const out = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => r && out.set(r, i * dim));
  return out;
}

export async function runTrain(p: Parsed): Promise<void> {
  const progress = new Progress(process.stderr, p.opts.has('quiet'));
  const log = (s: string) => progress.log(s);
  const modelDir = str(p, 'model');
  const dataDir = str(p, 'data');
  if (!modelDir) throw new ArgError('--model DIR is required (a model folder, e.g. public/models/toy-clip)');
  if (!dataDir) throw new ArgError('--data DIR is required (an image-folder tree: DIR/train/<class>/*, DIR/<split>/<class>/*)');
  const baseToNew = p.opts.has('base-to-new');
  const shotsList = intList(p, 'shots', baseToNew ? [16] : [1, 2, 4, 8, 16]);
  const seeds = intList(p, 'seeds', [1, 2, 3]);
  let cscs = configsFrom(p);
  const base = settingsFrom(p);
  const methods = methodsFrom(p);
  const promptMethods = methods.filter(learnsPrompt);
  const adapterMethods = methods.filter((m) => !learnsPrompt(m));
  const ms = methodSettingsFrom(p);
  const out = str(p, 'out') ?? path.join('coop-out', new Date().toISOString().replace(/[:.]/g, '-'));
  const engineChoice = oneOf<EngineChoice>(p, 'engine', ['auto', 'wgsl', 'cpu', 'reference'], 'auto');
  const ep = oneOf<EpChoice>(p, 'ep', ['cpu', 'cuda'], 'cpu');
  const onlySplits = str(p, 'splits')?.split(',').filter(Boolean);
  const t0 = performance.now();

  const l = await loadAll(modelDir);
  const data = readImageFolder(dataDir, onlySplits);
  for (const w of data.warnings) log(`warning: ${w}`);
  const names = data.classNames;
  const K = names.length;
  const splitNames = Object.keys(data.splits);
  if (splitNames.length === 0) log('warning: no evaluation split (DIR/<split>/<class>/*) besides train/: the table has no columns to fill');
  log(`model ${l.model.manifest.id} (${l.model.dir}); ${K} classes: ${names.join(', ')}; ${data.train.length} training images; splits ${splitNames.map((s) => `${s} (${data.splits[s].length})`).join(', ') || 'none'}`);

  let nBase = K;
  if (baseToNew) {
    nBase = positiveInt(p, 'base', Math.floor(K / 2));
    if (nBase >= K) throw new ArgError(`--base ${nBase} leaves no new classes among ${K}: choose fewer than ${K}`);
    log(`base-to-new: base classes ${names.slice(0, nBase).join(', ')}; new classes ${names.slice(nBase).join(', ')}`);
    if (cscs.includes(true)) {
      log('base-to-new: class-specific context (CSC) learns vectors only for the base classes and has none for new ones, so CSC is skipped; unified context is trained.');
      cscs = [false];
    }
  } else if (p.opts.has('base')) throw new ArgError('--base N only applies with --base-to-new');

  const extractor = await ImageFeatureExtractor.create(l.model, { ep, epStrict: p.opts.has('ep-strict'), cacheDir: str(p, 'cache') ?? defaultCacheDir(), log });
  log(`image features: cache ${str(p, 'cache') ?? defaultCacheDir()} (onnxruntime-node opens the image tower only for views missing from it)`);
  const dim = extractor.dim;
  const clean = async (items: ImageItem[], label: string) =>
    (await extractor.features(items.map((i) => ({ file: i.file, views: [{ kind: 'clean' as const }] })), label, progress)).map((r) => r[0]);

  // Clean features of everything; images that cannot be decoded drop out here, named and counted.
  const trainClean = await clean(data.train, 'train (clean)');
  const splits: Split[] = [];
  for (const s of splitNames) {
    const f = await clean(data.splits[s], `${s} (clean)`);
    const keep = data.splits[s].map((_, i) => i).filter((i) => f[i]);
    splits.push({ name: s, features: stack(keep.map((i) => f[i]), dim), labels: Int32Array.from(keep.map((i) => data.splits[s][i].label)) });
  }
  if (extractor.failed.size) {
    log(`skipped ${extractor.failed.size} file(s) that could not be read as images:`);
    for (const m of extractor.failed.values()) log(`  ${m}`);
  }
  const trainKeep = data.train.map((_, i) => i).filter((i) => trainClean[i]);
  const train = trainKeep.map((i) => data.train[i]);
  const trainFeat = trainKeep.map((i) => trainClean[i]!);
  for (let c = 0; c < K; c++) {
    if (!train.some((t) => t.label === c)) throw new Error(`train/${data.folders[c]} has no readable image left: add images or remove the folder`);
  }
  const trainLabels = Int32Array.from(train.map((t) => t.label));

  // Classes that take part, and how a split is scored (base-to-new: src/coop/base-to-new.ts, as the app).
  const classSplit = classSplitFirst(K, nBase);
  const baseIdx = classSplit.base;
  const subset = (s: Split, classes: number[]): Split => subsetClasses(s, classes, dim);
  const byText = (text: Float32Array): Predictor => (f) => predict(f, text, dim);
  const scoreText = (text: Float32Array): Record<string, number> => {
    const acc: Record<string, number> = {};
    for (const s of splits) if (s.labels.length) acc[s.name] = accuracy(predict(s.features, text, dim), s.labels);
    return acc;
  };
  // The text engine: chosen once, by measurement (or as forced); it also encodes the hand-written baselines.
  const engine: TextEngineLike = await chooseTextEngine(l.weights, l.model.manifest.logit_scale, engineChoice, log, positiveInt(p, 'threads', defaultThreads()));
  const handText = (classNames: readonly string[], templates: readonly string[]) => handTextFeatures(l, classNames, templates, engine);

  const baseNames = classSplit.base.map((c) => names[c]);
  const newNames = classSplit.new.map((c) => names[c]);
  // Zero-shot CLIP among the new classes: the zero-shot row's new part and Tip-Adapter's fallback on new classes.
  let zsNew: Promise<Float32Array> | null = null;
  const zsNewText = () => (zsNew ??= handText(newNames, [DEFAULT_TEMPLATE]));

  const records: RunRecord[] = [];
  // Zero-shot and prompt ensembling do not depend on shots or seeds: computed once, shown in every block.
  const zsText = await handText(names, [DEFAULT_TEMPLATE]);
  const enText = await handText(names, TEMPLATES);
  const handRows: Array<{ method: string; acc: Record<string, number> }> = [];
  if (!baseToNew) {
    handRows.push({ method: `zero-shot CLIP ("${DEFAULT_TEMPLATE}")`, acc: scoreText(zsText) });
    handRows.push({ method: `prompt ensembling (${TEMPLATES.length} templates)`, acc: scoreText(enText) });
  } else {
    const acc = baseToNewAccuracies(splits, classSplit, dim, byText(await handText(baseNames, [DEFAULT_TEMPLATE])), byText(await zsNewText()));
    handRows.push({ method: `zero-shot CLIP ("${DEFAULT_TEMPLATE}")`, acc });
  }
  for (const h of handRows) log(`${h.method}: ${Object.entries(h.acc).map(([s, a]) => `${s} ${pct(a)}%`).join(', ')}`);


  mkdirSync(path.join(out, 'prompts'), { recursive: true });
  const promptModel = { id: l.model.manifest.id, fingerprint: l.model.textFingerprint, width: l.weights.config.D };
  const runsTotal = shotsList.length * seeds.length * (promptMethods.length * cscs.length + adapterMethods.length);
  // Training time per table row (seconds per run), reported under the table.
  const trainTimes = new Map<string, number[]>();
  const timeOf = (label: string, secs: number) => trainTimes.set(label, [...(trainTimes.get(label) ?? []), secs]);
  let runsDone = 0;
  // Tip-Adapter(-F) learn no prompt: only the prompt methods write files.
  let promptFiles = 0;
  const runTimes: number[] = [];
  /** Per CoOp run: training time (image encoding apart), steps, final loss; for benchmarks and the GPU check. */
  const runLog: Array<Record<string, unknown>> = [];
  const trainPool = baseToNew ? train.map((t, i) => i).filter((i) => train[i].label < nBase) : train.map((_, i) => i);
  const poolLabels = Int32Array.from(trainPool, (i) => trainLabels[i]);
  const poolClasses = baseToNew ? nBase : K;
  const runNames = baseToNew ? baseNames : names;

  const writeOutputs = () => {
    const methodOrder = [
      ...handRows.map((h) => h.method),
      'linear probe',
      ...methods.flatMap((m) => (learnsPrompt(m) ? cscs.map((c) => configLabel({ ...base, csc: c }, m)) : [configLabel({ ...base, csc: false }, m)])),
    ];
    const json: Record<string, unknown> = {
      model: { id: l.model.manifest.id, dir: l.model.dir, text_model_sha256: l.model.textFingerprint },
      data: dataDir,
      classes: names,
      splits: splitNames,
      settings: base,
      engine: engine.detail,
      image_ep: extractor.ep,
      seeds,
      shots: shotsList,
      std: 'population (ddof=0)',
      records,
      runs: runLog,
      runs_done: runsDone,
      runs_total: runsTotal,
      wall_seconds: (performance.now() - t0) / 1000,
    };
    let md: string;
    if (!baseToNew) {
      const table = buildTable(records, splitNames, methodOrder);
      json.table = table;
      md = tableMarkdown(table, `Accuracy (%) on ${path.basename(path.resolve(dataDir))}, mean ± std over seeds ${seeds.join(', ')}`);
    } else {
      const byShots = shotsList.map((s) => ({ shots: s, rows: buildBaseToNew(records.filter((r) => r.shots === s), splitNames, methodOrder) }));
      json.base_to_new = { base: baseNames, new: newNames, blocks: byShots };
      md = byShots.map((b) => baseToNewMarkdown(b.rows, splitNames, `Base-to-new, ${b.shots} shots: base ${baseNames.join(', ')}; new ${newNames.join(', ')} (accuracy %, mean ± std over seeds ${seeds.join(', ')}; H of the means)`)).join('\n');
    }
    if (trainTimes.size) {
      md += `\nTraining time per run (mean over runs, this machine): ${[...trainTimes].map(([m, t]) => `${m} ${formatDuration((1000 * t.reduce((a, b) => a + b, 0)) / t.length)}`).join('; ')}.\n`;
      json.train_seconds = Object.fromEntries(trainTimes);
    }
    md += `\n${runsDone} of ${runsTotal} runs; text engine: ${engine.detail}; image features: ${extractor.source}; wall time ${formatDuration(performance.now() - t0)}.\n`;
    writeFileSync(path.join(out, 'results.md'), md);
    writeFileSync(path.join(out, 'results.json'), JSON.stringify(json, null, 1) + '\n');
    return md;
  };

  for (const shots of shotsList) {
    for (const h of handRows) records.push({ shots, method: h.method, seed: 0, accuracy: h.acc });
    for (const seed of seeds) {
      const fs = sampleFewShot(poolLabels, poolClasses, shots, seed);
      const chosen = fs.indices.map((j) => trainPool[j]);
      for (const s of fs.short) log(`note: class '${names[s.label]}' has only ${s.have} training image(s), fewer than ${shots} shots: all of them are used (seed ${seed})`);
      const labels = Int32Array.from(chosen, (i) => trainLabels[i]);
      const cleanF = stack(chosen.map((i) => trainFeat[i]), dim);
      // Linear probe on the same few-shot sample's clean features.
      const probe = linearProbe(cleanF, labels, dim, poolClasses);
      const probeOn: Predictor = (f) => probePredict(probe.model, f);
      // The probe has no weights for new classes: base only.
      const probeAcc = baseToNew ? baseToNewAccuracies(splits, classSplit, dim, probeOn, null) : Object.fromEntries(splits.filter((s) => s.labels.length).map((s) => [s.name, accuracy(probeOn(s.features, s.labels.length), s.labels)]));
      records.push({ shots, method: 'linear probe', seed, accuracy: probeAcc });
      // CoOp's augmented views of the sampled images, encoded once and cached on disk.
      const viewRows = await extractor.features(
        chosen.map((i) => ({ file: train[i].file, views: Array.from({ length: base.views }, (_, v) => ({ kind: 'aug' as const, seed, index: v })) })),
        `${shots}-shot seed ${seed} views`,
        progress,
      );
      const viewFeatures = new Float32Array(chosen.length * base.views * dim);
      viewRows.forEach((rows, i) => rows.forEach((f, v) => f && viewFeatures.set(f, (i * base.views + v) * dim)));

      if (p.opts.has('save-features')) {
        // The exact inputs of this shot count and seed, for cross-checks outside this program (tools/coop-trace).
        const rowsOf = (f: Float32Array, n: number) => Array.from({ length: n }, (_, r) => Array.from(f.subarray(r * dim, (r + 1) * dim)));
        const file = path.join(out, 'features', `${shots}shot-seed${seed}.json`);
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, JSON.stringify({
          classnames: runNames,
          labels: Array.from(labels),
          files: chosen.map((i) => train[i].file),
          view_features: Array.from({ length: chosen.length }, (_, i) => rowsOf(viewFeatures.subarray(i * base.views * dim, (i + 1) * base.views * dim), base.views)),
          clean_features: rowsOf(cleanF, chosen.length),
          splits: Object.fromEntries(splits.map((s) => [s.name, { features: rowsOf(s.features, s.labels.length), labels: Array.from(s.labels) }])),
        }));
        log(`features of ${shots} shots, seed ${seed} → ${file}`);
      }

      for (const method of adapterMethods) {
        const label = configLabel({ ...base, csc: false }, method);
        const tag = `[${runsDone + 1}/${runsTotal}] ${label}, ${shots} shot${shots > 1 ? 's' : ''}, seed ${seed}`;
        const tRun = performance.now();
        const r = runTipAdapter(method, { viewFeatures, nImages: chosen.length, nViews: base.views, dim, labels, nClasses: poolClasses, seed, zsText: await handText(runNames, [DEFAULT_TEMPLATE]), logitScale: l.model.manifest.logit_scale, val: splits.find((s) => s.name === 'val'), baseIdx: baseToNew ? baseIdx : null, subset }, (e) => log(`${tag}: epoch ${e.epoch}/${e.epochs}, loss ${e.loss.toFixed(4)}, train acc ${pct(e.trainAcc)}%`));
        const secs = (performance.now() - tRun) / 1000;
        timeOf(label, secs);
        const tipOn: Predictor = (f, n) => argmaxRows(r.logits(f), n, poolClasses);
        // New classes have no cache entries: the adapter falls back to zero-shot CLIP among the new classes.
        const acc = baseToNew
          ? baseToNewAccuracies(splits, classSplit, dim, tipOn, byText(await zsNewText()))
          : Object.fromEntries(splits.filter((s) => s.labels.length).map((s) => [s.name, accuracy(tipOn(s.features, s.labels.length), s.labels)]));
        records.push({ shots, method: label, seed, accuracy: acc });
        runsDone++;
        log(`${tag}: ${formatDuration(secs * 1000)} (α ${r.params.alpha.toFixed(3)}, β ${r.params.beta.toFixed(3)}${r.searched ? ', searched on val' : ', official defaults'}); ${Object.entries(acc).map(([s, a]) => `${s} ${pct(a)}%`).join(', ')}`);
        writeOutputs();
      }
      for (const method of promptMethods) for (const csc of cscs) {
        const settings: TrainSettings = { ...base, csc, seed };
        const label = configLabel(settings, method);
        const { ctx, note } = initialContext(l, settings, runNames.length);
        if (note) log(`note: ${note}`);
        engine.setPrompts(promptSpec(l, runNames, ctx.nCtx, ctx.cscClasses > 0, settings.position));
        const trainer = new CoopTrainer({
          settings: { ...settings, nCtx: ctx.nCtx },
          data: { viewFeatures, nImages: chosen.length, nViews: base.views, dim, labels, nClasses: poolClasses },
          initialContext: ctx,
          // The method changes the loss and gradient, never the loop (src/coop/prompt-methods.ts).
          lossAndGrad: methodLossAndGrad(
            promptMethodConfig(method, ms, method === 'coop' ? null : await handText(runNames, [DEFAULT_TEMPLATE]), l.model.manifest.logit_scale, runNames.length, dim),
            (c, f, y, tg, sg) => engine.step(c.data, f, y, tg, sg),
          ),
        });
        const tag = `[${runsDone + 1}/${runsTotal}] ${label}, ${shots} shot${shots > 1 ? 's' : ''}, seed ${seed}`;
        const task = progress.task(tag, trainer.totalSteps, 'steps');
        let lastLoss = NaN;
        let accSum = 0;
        let accN = 0;
        let failed: string | null = null;
        // ProGrad: how many steps had conflicting gradients (the projection applied).
        let projected = 0;
        const tRun = performance.now();
        for await (const ev of trainer.run()) {
          if (ev.type === 'step') {
            lastLoss = ev.loss;
            if (ev.terms?.projected) projected++;
            accSum += ev.batchAcc;
            accN++;
            task.advance(1, `epoch ${ev.epoch}/${trainer.maxEpochs}, loss ${ev.loss.toFixed(4)}, batch acc ${pct(accSum / accN)}%, lr ${ev.lr.toExponential(2)}`);
            if (ev.stepInEpoch === ev.stepsPerEpoch) {
              accSum = 0;
              accN = 0;
            }
          } else if (ev.type === 'error') failed = ev.message;
        }
        const final: ContextVectors = trainer.context;
        // Evaluation: the learned prompts' text features against each split.
        const textAll = await learnedTextFeatures(engine, l, runNames, final, settings.position);
        const trainAcc = accuracy(predict(cleanF, textAll, dim), labels);
        // Base-to-new: the learned unified context with the new classes' names, among the new classes.
        const acc = baseToNew
          ? baseToNewAccuracies(splits, classSplit, dim, byText(textAll), byText(await learnedTextFeatures(engine, l, newNames, final, settings.position)))
          : scoreText(textAll);
        const secs = (performance.now() - tRun) / 1000;
        runTimes.push(secs);
        timeOf(label, secs);
        task.done(`${failed ? `FAILED: ${failed}; ` : ''}${method === 'prograd' ? `projected ${projected} of ${trainer.totalSteps} steps; ` : ''}loss ${lastLoss.toFixed(4)}, train ${pct(trainAcc)}%, ${Object.entries(acc).map(([s, a]) => `${s} ${pct(a)}%`).join(', ')}`);
        records.push({ shots, method: label, seed, accuracy: acc });
        runLog.push({ shots, seed, method: label, train_seconds: secs, steps: trainer.position.step, epochs: trainer.maxEpochs, final_loss: lastLoss, engine: engine.kind, failed });
        runsDone++;
        // The learned prompt in the app's format, checked with the app's own parser before it is written.
        const prompt: LearnedPrompt = {
          model: { id: promptModel.id, fingerprint: promptModel.fingerprint },
          context: final,
          position: settings.position,
          init: settings.init === 'words' ? { kind: 'words', words: settings.initWords } : { kind: 'random' },
          classNames: [...runNames],
          training: { ...settings, nCtx: final.nCtx },
          metrics: { train_acc: trainAcc, epochs_trained: trainer.position.epoch, ...Object.fromEntries(Object.entries(acc).map(([s, a]) => [`${s.replace('/', '_')}_acc`, a])) },
          nearestTokens: null,
          created: new Date().toISOString(),
        };
        const text = serializePromptFile(prompt);
        const parsed = parsePromptFile(text, promptModel);
        if (!parsed.ok) throw new Error(`the learned prompt does not read back with the app's parser: ${parsed.error}`);
        const file = path.join(out, 'prompts', `${shots}shot`, `${method === 'coop' ? '' : `${method}-`}${csc ? 'csc' : 'unified'}-seed${seed}.json`);
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, text);
        promptFiles++;
        const left = runsTotal - runsDone;
        const avg = runTimes.reduce((a, b) => a + b, 0) / runTimes.length;
        log(`${tag}: ${formatDuration(secs * 1000)}; prompt → ${file} (${promptFileName(prompt)} in the app); ${left} run(s) left, sweep ETA ~${formatDuration(left * avg * 1000)} (mean of runs so far; more shots take longer)`);
        writeOutputs();
      }
    }
  }
  engine.dispose();
  await extractor.release();
  const md = writeOutputs();
  process.stdout.write(md);
  log(`wrote ${path.join(out, 'results.md')}, ${path.join(out, 'results.json')} and ${promptFiles} prompt file(s) under ${path.join(out, 'prompts')}; wall time ${formatDuration(performance.now() - t0)}`);
}

interface TipRunInput {
  viewFeatures: Float32Array;
  nImages: number;
  nViews: number;
  dim: number;
  labels: Int32Array;
  nClasses: number;
  seed: number;
  /** Hand-written prompts' text features of the trained classes. */
  zsText: Float32Array;
  logitScale: number;
  /** A held-out split named 'val', when the data has one: α and β are searched on it as the official code does. */
  val?: Split;
  baseIdx: number[] | null;
  subset: (s: Split, classes: number[]) => Split;
}

/** Tip-Adapter (training-free) or Tip-Adapter-F (keys fine-tuned) on the run's cached views: a logits function. */
function runTipAdapter(
  method: Method,
  o: TipRunInput,
  onEpoch: (e: { epoch: number; epochs: number; loss: number; trainAcc: number }) => void,
): { logits: (features: Float32Array) => Float32Array; params: TipParams; searched: boolean } {
  // The official 100 is CLIP's logit scale; the model's own (clamped at 100, as CoOp) plays its part.
  const cache = buildTipCache(o.viewFeatures, o.nImages, o.nViews, o.dim, o.labels, o.nClasses, Math.min(o.logitScale, 100));
  let params: TipParams = { alpha: TIP_ADAPTER_DEFAULTS.alpha, beta: TIP_ADAPTER_DEFAULTS.beta };
  let keys: Float32Array = cache.keys;
  if (method === 'tip-f') {
    keys = trainTipAdapterF({ cache, viewFeatures: o.viewFeatures, nViews: o.nViews, zsText: o.zsText, params, seed: o.seed, epochs: TIP_ADAPTER_F_DEFAULTS.epochs, batchSize: TIP_ADAPTER_F_DEFAULTS.batchSize }, onEpoch);
  }
  const val = o.val && o.baseIdx ? o.subset(o.val, o.baseIdx) : o.val;
  let searched = false;
  if (val && val.labels.length) {
    const best = searchTipParams(val.features, val.labels, cache, o.zsText, { keys });
    params = { alpha: best.alpha, beta: best.beta };
    searched = true;
  }
  return { logits: (f) => tipLogits(f, cache, o.zsText, params, keys), params, searched };
}
