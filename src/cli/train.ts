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
import { linearProbe, probePredict } from '../coop/linear-probe';
import { accuracy } from '../coop/metrics';
import { parsePromptFile, promptFileName, serializePromptFile, type LearnedPrompt } from '../coop/prompt-file';
import type { RunRecord } from '../coop/results-table';
import { OPTIMIZERS, withDefaults, type ClassTokenPosition, type TrainSettings } from '../coop/settings';
import { CoopTrainer } from '../coop/trainer';
import { adapterLogits, fitFeatureAdapter, type AdapterWeights } from '../coop/adapter-methods';
import { adapterFileName, parseAdapterFile, serializeAdapterFile, type AdapterFile } from '../coop/adapter-file';
import { DEFAULT_METHOD_SETTINGS, isFeatureMethod, learnsPrompt, METHOD_LABELS, parseMethods, type Method, type MethodSettings } from '../coop/method-settings';
import { methodLearnerConfig, methodRunSettings, needsHandWritten, type RecipeKey } from '../coop/method-learner';
import { isSuccessor, promptLearner } from '../coop/prompt-learner';
import { successorFileMethod, withSuccessorExtras } from '../coop/successors';
import { buildTipCache, searchTipParams, tipLogits, trainTipAdapterF, TIP_ADAPTER_DEFAULTS, TIP_ADAPTER_F_DEFAULTS, type TipParams } from '../coop/tip-adapter';
import { argmaxRows } from '../coop/metrics';
import { baseToNewAccuracies, baseToNewParts, classSplitFirst, subsetClasses, type Predictor } from '../coop/base-to-new';
import type { TextEngineLike } from '../worker/text-engine';
import { ArgError, intList, oneOf, positiveInt, positiveNumber, str, type Parsed } from './args';
import { handTextAnchors, handTextFeatures, initialContext, loadAll, predict, promptSpec, type Loaded } from './common';
import { defaultCacheDir, ImageFeatureExtractor, type EpChoice } from './image-features';
import { DATASET_NAMES } from './datasets/catalog';
import { coopRecipe } from './datasets/recipes';
import { coopSource, folderSource, type Source, type Target } from './datasets/source';
import type { ImageItem } from './image-folder';
import { runProtocol } from './protocol';
import { parseShard, runKey, SweepStore, type StoredRun } from './sweep-store';
import { renderTable, seedsOf, type TableLayout } from './sweep-table';
import { formatDuration, Progress } from './progress';
import { chooseTextEngine, defaultThreads, type EngineChoice } from './text-engine';

export const TRAIN_OPTIONS = {
  model: 'value', data: 'value', shots: 'value', seeds: 'value', csc: 'optional', position: 'value', 'n-ctx': 'value',
  init: 'value', epochs: 'value', views: 'value', engine: 'value', ep: 'value', 'ep-strict': 'flag', out: 'value',
  'base-to-new': 'flag', base: 'value', lr: 'value', 'batch-size': 'value', cache: 'value', splits: 'value', quiet: 'flag',
  'save-features': 'flag', threads: 'value', dataset: 'value', targets: 'value', shard: 'value', protocol: 'value', datasets: 'value',
  optimizer: 'value', method: 'value', 'kg-weight': 'value', 'prograd-lambda': 'value', 'prograd-t': 'value',
  'tcp-weight': 'value', 'dept-lp-weight': 'value', 'dept-kg-weight': 'value',
} as const;

/** The options that set what a successor's recipe sets: given explicitly, they win over the recipe. */
const RECIPE_FLAGS: ReadonlyArray<[string, RecipeKey]> = [
  ['n-ctx', 'nCtx'], ['init', 'init'], ['position', 'position'], ['batch-size', 'batchSize'], ['epochs', 'epochs'], ['lr', 'lr'], ['optimizer', 'optimizer'],
];

/**
 * Options another command set for the person (`--protocol base2new` sets --init to CoCoOp's "a photo of a" for
 * CoOp): not the person's explicit choice, so a successor's recipe is kept over them.
 */
export const IMPLIED_OPTIONS = '_implied';

function explicitRecipeKeys(p: Parsed): Set<RecipeKey> {
  const implied = new Set((str(p, IMPLIED_OPTIONS) ?? '').split(',').filter(Boolean));
  return new Set(RECIPE_FLAGS.filter(([flag]) => p.opts.has(flag) && !implied.has(flag)).map(([, key]) => key));
}

/** "nCtx 4, init "a photo of a", batch 1, 10 epochs, lr 0.002, SGD": what a recipe's settings amount to. */
function describeSettings(s: Omit<TrainSettings, 'seed' | 'csc'>): string {
  return `${s.nCtx} context vectors, init ${s.init === 'words' ? `"${s.initWords}"` : 'random'}, batch ${s.batchSize}, ${s.epochs === 'auto' ? 'epochs by shots' : `${s.epochs} epoch${s.epochs === 1 ? '' : 's'}`}, lr ${s.lr}, ${s.optimizer === 'adam' ? 'Adam' : 'SGD'}`;
}

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
    // Only Adam is set: an SGD run's settings (and its prompt file) stay as they were before the choice.
    ...(oneOf(p, 'optimizer', OPTIMIZERS, 'sgd') === 'adam' ? { optimizer: 'adam' as const } : {}),
    batchSize: positiveInt(p, 'batch-size', d.batchSize),
  };
}

function configLabel(s: Omit<TrainSettings, 'seed'>, method: Method = 'coop'): string {
  if (!learnsPrompt(method)) return METHOD_LABELS[method];
  const init = s.init === 'random' ? `M${s.nCtx}` : `"${s.initWords}"`;
  // Adam is named, so a sweep's table and its stored runs tell it apart from the same configuration with SGD.
  return `${METHOD_LABELS[method]} ${s.csc ? 'CSC' : 'unified'} ${s.position} ${init}${s.optimizer === 'adam' ? ' Adam' : ''}`;
}

function methodSettingsFrom(p: Parsed): MethodSettings {
  const d = DEFAULT_METHOD_SETTINGS;
  return {
    kgWeight: positiveNumber(p, 'kg-weight', d.kgWeight),
    progradT: positiveNumber(p, 'prograd-t', d.progradT),
    progradLambda: positiveNumber(p, 'prograd-lambda', d.progradLambda),
    tcpWeight: positiveNumber(p, 'tcp-weight', d.tcpWeight),
    deptLpWeight: positiveNumber(p, 'dept-lp-weight', d.deptLpWeight),
    deptKgWeight: positiveNumber(p, 'dept-kg-weight', d.deptKgWeight),
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

/** `--dataset` (and `--targets`) read CoOp's layout; otherwise `--data` is an image-folder tree. */
function sourceFrom(p: Parsed, dataDir: string, log: (s: string) => void): Source {
  const dataset = str(p, 'dataset');
  const targets = str(p, 'targets')?.split(',').filter(Boolean) ?? [];
  for (const n of [dataset, ...targets]) if (n !== undefined && !DATASET_NAMES.includes(n)) throw new ArgError(`unknown dataset '${n}': use one of ${DATASET_NAMES.join(', ')}`);
  if (!dataset) {
    if (targets.length) throw new ArgError('--targets evaluates on datasets in CoOp\'s layout: it needs --dataset for the training set');
    return folderSource(dataDir, str(p, 'splits')?.split(',').filter(Boolean));
  }
  if (p.opts.has('splits')) throw new ArgError("--splits picks image-folder splits; a CoOp dataset is evaluated on its test split (add other datasets with --targets)");
  return coopSource(dataDir, dataset, targets, log);
}

export async function runTrain(p: Parsed): Promise<void> {
  if (p.opts.has('protocol')) return runProtocol(p);
  const progress = new Progress(process.stderr, p.opts.has('quiet'));
  const log = (s: string) => progress.log(s);
  const modelDir = str(p, 'model');
  const dataDir = str(p, 'data');
  if (!modelDir) throw new ArgError('--model DIR is required (a model folder, e.g. public/models/toy-clip)');
  if (!dataDir) throw new ArgError('--data DIR is required (an image-folder tree: DIR/train/<class>/*, DIR/<split>/<class>/*; or $DATA in CoOp\'s layout with --dataset NAME)');
  const baseToNew = p.opts.has('base-to-new');
  const shotsList = intList(p, 'shots', baseToNew ? [16] : [1, 2, 4, 8, 16]);
  const seeds = intList(p, 'seeds', [1, 2, 3]);
  let cscs = configsFrom(p);
  const base = settingsFrom(p);
  const methods = methodsFrom(p);
  const promptMethods = methods.filter(learnsPrompt);
  const adapterMethods = methods.filter((m) => !learnsPrompt(m));
  const ms = methodSettingsFrom(p);
  const successors = promptMethods.filter(isSuccessor);
  if (successors.length && cscs.includes(true)) {
    throw new ArgError(`--csc: ${successors.map((m) => METHOD_LABELS[m]).join(', ')} learn${successors.length > 1 ? '' : 's'} one context shared by all classes (and tensors beside it), never a class-specific one; leave out --csc, or train CSC in a separate command with --method coop, kgcoop or prograd`);
  }
  for (const m of ['tcp-weight', 'dept-lp-weight', 'dept-kg-weight'] as const) {
    const owner = m === 'tcp-weight' ? 'tcp' : m === 'dept-kg-weight' ? 'dept-kgcoop' : null;
    if (p.opts.has(m) && (owner ? !methods.includes(owner) : !methods.some((x) => x === 'dept-coop' || x === 'dept-kgcoop'))) throw new ArgError(`--${m} applies to ${owner ? METHOD_LABELS[owner] : 'DePT'}: add it to --method`);
  }
  // Each method's settings: CoOp, KgCoOp and ProGrad the command's; a successor its official recipe, except what
  // the person set explicitly (method-learner.ts).
  const explicit = explicitRecipeKeys(p);
  const runOf = (m: Method) => (learnsPrompt(m) ? methodRunSettings(m, base, explicit) : { settings: base, source: null, overridden: [] as RecipeKey[] });
  const settingsOf = (m: Method) => runOf(m).settings;
  const out = str(p, 'out') ?? path.join('coop-out', new Date().toISOString().replace(/[:.]/g, '-'));
  const engineChoice = oneOf<EngineChoice>(p, 'engine', ['auto', 'wgsl', 'cpu', 'reference'], 'auto');
  const ep = oneOf<EpChoice>(p, 'ep', ['cpu', 'cuda'], 'cpu');
  const shard = parseShard(str(p, 'shard'));
  const t0 = performance.now();

  const l = await loadAll(modelDir);
  const source = sourceFrom(p, dataDir, log);
  for (const w of source.warnings) log(`warning: ${w}`);
  const names = source.classNames;
  const K = names.length;
  const splitNames = Object.keys(source.splits);
  const targets = source.targets;
  if (splitNames.length === 0) log('warning: no evaluation split (DIR/<split>/<class>/*) besides train/: the table has no columns to fill');
  log(`model ${l.model.manifest.id} (${l.model.dir}); ${source.kind === 'coop' ? `dataset ${source.name}, ` : ''}${K} classes: ${names.slice(0, 12).join(', ')}${K > 12 ? ', …' : ''}; ${source.train.length} training images; splits ${splitNames.map((s) => `${s} (${source.splits[s].length})`).join(', ') || 'none'}${targets.length ? `; targets ${targets.map((t) => `${t.name} (${t.items.length})`).join(', ')}` : ''}`);
  if (source.kind === 'coop' && source.name === 'imagenet' && base.epochs === 'auto') {
    base.epochs = coopRecipe('imagenet', 16).epochs;
    log(`recipe: ${coopRecipe('imagenet', 16).config}: ${base.epochs} epochs for every shot count`);
  }

  for (const m of successors) {
    const r = runOf(m);
    log(`recipe: ${METHOD_LABELS[m]} trains with its official recipe (${r.source}): ${describeSettings(r.settings)}${r.overridden.length ? `; from the command line instead: ${r.overridden.map((k) => `--${RECIPE_FLAGS.find(([, key]) => key === k)![0]}`).join(', ')}` : ''}`);
  }

  let nBase = K;
  if (baseToNew) {
    // Dassl's subsample_classes: the first ceil(K / 2) labels are base. The image-folder default stays K / 2 rounded down.
    nBase = positiveInt(p, 'base', source.kind === 'coop' ? Math.ceil(K / 2) : Math.floor(K / 2));
    if (nBase >= K) throw new ArgError(`--base ${nBase} leaves no new classes among ${K}: choose fewer than ${K}`);
    log(`base-to-new: base classes ${names.slice(0, nBase).slice(0, 12).join(', ')}${nBase > 12 ? ', …' : ''}; new classes ${names.slice(nBase).slice(0, 12).join(', ')}${K - nBase > 12 ? ', …' : ''}`);
  } else if (p.opts.has('base')) throw new ArgError('--base N only applies with --base-to-new');
  if ((baseToNew || targets.length) && cscs.includes(true)) {
    log(`${baseToNew ? 'base-to-new' : '--targets'}: class-specific context (CSC) learns vectors only for the training classes and has none for other ones, so CSC is skipped; unified context is trained.`);
    cscs = [false];
  }

  const extractor = await ImageFeatureExtractor.create(l.model, { ep, epStrict: p.opts.has('ep-strict'), cacheDir: str(p, 'cache') ?? defaultCacheDir(), log });
  log(`image features: cache ${str(p, 'cache') ?? defaultCacheDir()} (onnxruntime-node opens the image tower only for views missing from it)`);
  const dim = extractor.dim;
  const clean = async (items: ImageItem[], label: string) =>
    (await extractor.features(items.map((i) => ({ file: i.file, views: [{ kind: 'clean' as const }] })), label, progress)).map((r) => r[0]);
  const toSplit = async (name: string, items: ImageItem[]): Promise<Split> => {
    const f = await clean(items, `${name} (clean)`);
    const keep = items.map((_, i) => i).filter((i) => f[i]);
    return { name, features: stack(keep.map((i) => f[i]), dim), labels: Int32Array.from(keep.map((i) => items[i].label)) };
  };

  // Clean training features, by index into source.train: all of an image-folder tree up front (its undecodable
  // files leave the pool before sampling, as before); only the drawn images of a CoOp dataset (ImageNet has 1.28M).
  const trainClean = new Map<number, Float32Array | null>();
  const cleanTrain = async (indices: number[], label: string) => {
    const need = [...new Set(indices)].filter((i) => !trainClean.has(i));
    if (!need.length) return;
    const f = await clean(need.map((i) => source.train[i]), label);
    need.forEach((i, r) => trainClean.set(i, f[r]));
  };
  if (source.kind === 'folder') await cleanTrain(source.train.map((_, i) => i), 'train (clean)');
  const splits: Split[] = [];
  for (const s of splitNames) splits.push(await toSplit(s, source.splits[s]));
  const targetSets: Array<{ target: Target; split: Split }> = [];
  for (const t of targets) targetSets.push({ target: t, split: await toSplit(t.name, t.items) });
  const reportFailed = () => {
    if (!extractor.failed.size) return;
    log(`skipped ${extractor.failed.size} file(s) that could not be read as images:`);
    for (const m of extractor.failed.values()) log(`  ${m}`);
    extractor.failed.clear();
  };
  reportFailed();
  if (source.kind === 'folder') {
    for (let c = 0; c < K; c++) {
      if (!source.train.some((t, i) => t.label === c && trainClean.get(i))) throw new Error(`train/${source.folders[c]} has no readable image left: add images or remove the folder`);
    }
  }
  const usable = (i: number) => source.kind === 'coop' || !!trainClean.get(i);

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
  /** Other datasets' test sets (--targets), each among its own classes: hand-written prompts, or a learned context. */
  const scoreTargets = async (textOf: (t: Target) => Promise<Float32Array>): Promise<Record<string, number>> => {
    const acc: Record<string, number> = {};
    for (const { target, split } of targetSets) if (split.labels.length) acc[target.name] = accuracy(predict(split.features, await textOf(target), dim), split.labels);
    return acc;
  };

  const baseNames = classSplit.base.map((c) => names[c]);
  const newNames = classSplit.new.map((c) => names[c]);
  // Zero-shot CLIP among the new classes: the zero-shot row's new part and Tip-Adapter's fallback on new classes.
  let zsNew: Promise<Float32Array> | null = null;
  const zsNewText = () => (zsNew ??= handText(newNames, [source.zsTemplate]));

  // Zero-shot and prompt ensembling do not depend on shots or seeds: computed once, shown in every block.
  const zsText = await handText(names, [source.zsTemplate]);
  const handRows: Array<{ method: string; acc: Record<string, number> }> = [];
  const zsLabel = `zero-shot CLIP ("${source.zsTemplate}")`;
  if (!baseToNew) {
    handRows.push({ method: zsLabel, acc: { ...scoreText(zsText), ...(await scoreTargets((t) => handText(t.classNames, [t.template]))) } });
    handRows.push({ method: source.ensembleLabel, acc: { ...scoreText(await handText(names, source.ensemble)), ...(await scoreTargets((t) => handText(t.classNames, t.ensemble))) } });
  } else {
    const acc = baseToNewAccuracies(splits, classSplit, dim, byText(await handText(baseNames, [source.zsTemplate])), byText(await zsNewText()));
    handRows.push({ method: zsLabel, acc });
  }
  for (const h of handRows) log(`${h.method}: ${Object.entries(h.acc).map(([s, a]) => `${s} ${pct(a)}%`).join(', ')}`);

  mkdirSync(path.join(out, 'prompts'), { recursive: true });
  const promptModel = { id: l.model.manifest.id, fingerprint: l.model.textFingerprint, width: l.weights.config.D };
  const methodOrder = [
    ...handRows.map((h) => h.method),
    'linear probe',
    ...methods.flatMap((m) => (learnsPrompt(m) ? cscs.map((c) => configLabel({ ...settingsOf(m), csc: c }, m)) : [configLabel({ ...base, csc: false }, m)])),
  ];
  const tableSplits = [...splitNames, ...targets.map((t) => t.name)];
  const datasetKey = source.kind === 'coop' ? source.name : 'folder';
  const layout: TableLayout = {
    dataLabel: source.kind === 'coop' ? source.name : path.basename(path.resolve(dataDir)),
    splits: tableSplits,
    methodOrder,
    baseToNew: baseToNew ? { base: baseNames, new: newNames } : null,
  };
  // What the runs depend on: a rerun or a merge with other values is refused (sweep-store.ts).
  const store = new SweepStore(
    out,
    {
      identity: {
        model: l.model.textFingerprint,
        vision: l.model.visionFingerprint,
        data: source.kind === 'coop' ? { dataset: source.name, targets: targets.map((t) => t.name) } : { folder: path.resolve(dataDir), splits: splitNames },
        base_to_new: baseToNew ? nBase : null,
        settings: base,
        methods,
        method_settings: ms,
        csc: cscs,
      },
      splits: tableSplits,
      methodOrder,
      info: { layout, dataset: datasetKey, data: dataDir, classes: names },
    },
    shard,
  );
  const shardNote = shard.count > 1 ? ` (shard ${shard.index}/${shard.count})` : '';
  // Every run of the sweep in its fixed order; this shard runs its share of those not already on disk.
  // A shard takes whole (shots, seed) groups: their runs share one few-shot draw and its augmented views, so no
  // two machines encode the same views. Groups are dealt round-robin, each dataset starting one place further on,
  // so that a protocol's many small datasets do not all land their first group on shard 0.
  interface Planned { shots: number; seed: number; label: string; key: string; mine: boolean }
  const plan: Planned[] = [];
  const offset = Math.max(0, DATASET_NAMES.indexOf(datasetKey));
  let group = 0;
  for (const shots of shotsList) for (const seed of seeds) {
    const labels = ['linear probe', ...adapterMethods.map((m) => configLabel({ ...base, csc: false }, m)), ...promptMethods.flatMap((m) => cscs.map((c) => configLabel({ ...settingsOf(m), csc: c }, m)))];
    const mine = store.mine(group++ + offset);
    for (const label of labels) plan.push({ shots, seed, label, key: runKey(datasetKey, shots, seed, label), mine });
  }
  const todo = plan.filter((r) => r.mine && !store.has(r.key));
  const runsTotal = todo.length;
  const records: RunRecord[] = [];
  for (const r of plan) {
    const done = store.get(r.key);
    if (done) records.push(done);
  }
  if (store.resumed) log(`resuming ${out}: ${store.resumed} run(s) already done are loaded, not redone; ${runsTotal} to run${shardNote}`);
  else if (shard.count > 1) log(`shard ${shard.index}/${shard.count}: ${runsTotal} of the sweep's ${plan.length} runs`);
  const isTodo = (shots: number, seed: number, label: string) => todo.some((r) => r.shots === shots && r.seed === seed && r.label === label);
  const finish = (run: { shots: number; seed: number; method: string; accuracy: Record<string, number> }, extra: Partial<StoredRun> = {}) => {
    const stored: StoredRun = { key: runKey(datasetKey, run.shots, run.seed, run.method), dataset: datasetKey, ...run, ...extra };
    store.save(stored);
    records.push(run);
  };
  // The hand-written rows: cheap and the same in every shard; stored so a merge has them.
  for (const shots of shotsList) for (const h of handRows) {
    const key = runKey(datasetKey, shots, 0, h.method);
    if (!store.has(key)) finish({ shots, method: h.method, seed: 0, accuracy: h.acc });
  }

  let runsDone = 0;
  // Prompt files for the prompt methods, coop-adapter files for CLAP, LP++, TaskRes and CLIP-Adapter; Tip-Adapter(-F) none.
  let promptFiles = 0;
  const runTimes: number[] = [];
  /** Per CoOp run: training time (image encoding apart), steps, final loss; for benchmarks and the GPU check. */
  const runLog: Array<Record<string, unknown>> = [];
  const poolClasses = baseToNew ? nBase : K;
  const runNames = baseToNew ? baseNames : names;

  const writeOutputs = () => {
    const all = store.all.filter((r) => r.dataset === datasetKey);
    const { md: tableMd, json: tableJson } = renderTable(layout, all);
    const json: Record<string, unknown> = {
      model: { id: l.model.manifest.id, dir: l.model.dir, text_model_sha256: l.model.textFingerprint },
      data: dataDir,
      ...(source.kind === 'coop' ? { dataset: source.name, targets: targets.map((t) => t.name) } : {}),
      classes: names,
      splits: tableSplits,
      settings: base,
      engine: engine.detail,
      image_ep: extractor.ep,
      seeds: seedsOf(all),
      shots: [...new Set(all.map((r) => r.shots))].sort((a, b) => a - b),
      std: 'population (ddof=0)',
      records: all.map(({ shots, method, seed, accuracy: a }) => ({ shots, method, seed, accuracy: a })),
      runs: runLog,
      runs_done: runsDone,
      runs_total: runsTotal,
      runs_resumed: store.resumed,
      shard: `${shard.index}/${shard.count}`,
      wall_seconds: (performance.now() - t0) / 1000,
      ...tableJson,
    };
    let md = tableMd;
    // Times of this command's runs and of those loaded from an earlier one (each run stores its own), in table order.
    const times = new Map<string, number[]>();
    for (const r of all) if (typeof r.train_seconds === 'number') times.set(r.method, [...(times.get(r.method) ?? []), r.train_seconds]);
    const ordered = [...times].sort(([a], [b]) => methodOrder.indexOf(a) - methodOrder.indexOf(b));
    if (ordered.length) {
      // Under 10 s (the feature-only methods) in hundredths: whole seconds would show them all as 0 s.
      const fmt = (s: number) => (s < 10 ? `${s.toFixed(2)}s` : formatDuration(1000 * s));
      md += `\nTraining time per run (mean over runs, this machine): ${ordered.map(([m, t]) => `${m} ${fmt(t.reduce((a, b) => a + b, 0) / t.length)}`).join('; ')}.\n`;
      json.train_seconds = Object.fromEntries(ordered);
    }
    md += `\n${runsDone} of ${runsTotal} runs of this command${store.resumed ? ` (${store.resumed} more loaded from an earlier one)` : ''}${shardNote}; text engine: ${engine.detail}; image features: ${extractor.source}; wall time ${formatDuration(performance.now() - t0)}.\n`;
    writeFileSync(path.join(out, 'results.md'), md);
    writeFileSync(path.join(out, 'results.json'), JSON.stringify(json, null, 1) + '\n');
    return md;
  };

  for (const shots of shotsList) {
    for (const seed of seeds) {
      if (!todo.some((r) => r.shots === shots && r.seed === seed)) continue;
      const fs = source.fewShot(shots, seed, baseToNew ? nBase : null, usable);
      for (const n of fs.notes) log(`note: ${n}`);
      await cleanTrain(fs.indices, `${shots}-shot seed ${seed} (clean)`);
      reportFailed();
      const chosen = fs.indices.filter((i) => trainClean.get(i));
      const labels = Int32Array.from(chosen, (i) => source.train[i].label);
      const cleanF = stack(chosen.map((i) => trainClean.get(i)!), dim);
      if (isTodo(shots, seed, 'linear probe')) {
        // Linear probe on the same few-shot sample's clean features.
        const probe = linearProbe(cleanF, labels, dim, poolClasses);
        const probeOn: Predictor = (f) => probePredict(probe.model, f);
        // The probe has no weights for new classes (base only), nor for another dataset's.
        const probeAcc = baseToNew ? baseToNewAccuracies(splits, classSplit, dim, probeOn, null) : Object.fromEntries(splits.filter((s) => s.labels.length).map((s) => [s.name, accuracy(probeOn(s.features, s.labels.length), s.labels)]));
        finish({ shots, method: 'linear probe', seed, accuracy: probeAcc });
        log(`[${runsDone + 1}/${runsTotal}] linear probe, ${shots} shot${shots > 1 ? 's' : ''}, seed ${seed}: ${Object.entries(probeAcc).map(([s, a]) => `${s} ${pct(a)}%`).join(', ')}`);
        runsDone++;
      }
      if (!todo.some((r) => r.shots === shots && r.seed === seed && r.label !== 'linear probe')) {
        writeOutputs();
        continue;
      }
      // CoOp's augmented views of the sampled images, encoded once and cached on disk.
      const viewRows = await extractor.features(
        chosen.map((i) => ({ file: source.train[i].file, views: Array.from({ length: base.views }, (_, v) => ({ kind: 'aug' as const, seed, index: v })) })),
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
          files: chosen.map((i) => source.train[i].file),
          view_features: Array.from({ length: chosen.length }, (_, i) => rowsOf(viewFeatures.subarray(i * base.views * dim, (i + 1) * base.views * dim), base.views)),
          clean_features: rowsOf(cleanF, chosen.length),
          splits: Object.fromEntries(splits.map((s) => [s.name, { features: rowsOf(s.features, s.labels.length), labels: Array.from(s.labels) }])),
        }));
        log(`features of ${shots} shots, seed ${seed} → ${file}`);
      }

      for (const method of adapterMethods) {
        const label = configLabel({ ...base, csc: false }, method);
        if (!isTodo(shots, seed, label)) continue;
        const tag = `[${runsDone + 1}/${runsTotal}] ${label}, ${shots} shot${shots > 1 ? 's' : ''}, seed ${seed}`;
        const runText = await handText(runNames, [source.zsTemplate]);
        const valSplit = splits.find((s) => s.name === 'val');
        const val = valSplit && baseToNew ? subset(valSplit, baseIdx) : valSplit;
        if (isFeatureMethod(method)) {
          // CLAP and TaskRes start from the official anchors: the template mean of the unnormalized text features
          // (ImageNet: CoOp's 7 templates and its own; otherwise the dataset's template alone).
          const anchors = method === 'clap' || method === 'taskres' ? await handTextAnchors(l, runNames, source.kind === 'coop' && source.name === 'imagenet' ? source.ensemble : [source.zsTemplate], engine) : undefined;
          let task: ReturnType<Progress['task']> | null = null;
          const tRun = performance.now();
          const fit = fitFeatureAdapter(
            method,
            { viewFeatures, nImages: chosen.length, nViews: base.views, dim, labels, nClasses: poolClasses, cleanFeatures: cleanF, text: runText, anchors, shots, seed, dataset: source.kind === 'coop' ? source.name : null, val },
            (e) => {
              task ??= progress.task(tag, e.epochs, 'epochs');
              task.advance(1, `epoch ${e.epoch}/${e.epochs}, loss ${e.loss.toFixed(4)}, train acc ${pct(e.trainAcc)}%`);
            },
          );
          const secs = (performance.now() - tRun) / 1000;
            const on = (w: AdapterWeights): Predictor => (f, n) => argmaxRows(adapterLogits(w, f, dim), n, w.method === 'clap' ? w.weights.length / dim : w.text.length / dim);
          // Base-to-new: CLIP-Adapter adapts the image features and so works with the new classes' text as well;
          // the others have weights for the base classes only and fall back to zero-shot CLIP there, as Tip-Adapter.
          const acc = baseToNew
            ? baseToNewAccuracies(splits, classSplit, dim, on(fit.weights), fit.weights.method === 'clip-adapter' ? on({ ...fit.weights, text: await zsNewText() }) : byText(await zsNewText()))
            : Object.fromEntries(splits.filter((s) => s.labels.length).map((s) => [s.name, accuracy(on(fit.weights)(s.features, s.labels.length), s.labels)]));
          const trainAcc = accuracy(on(fit.weights)(cleanF, labels.length), labels);
          // The fitted classifier in its own file (docs/prompt-format.md, coop-adapter), read back before it counts.
          const file: AdapterFile = {
            model: { id: l.model.manifest.id, imageFingerprint: l.model.visionFingerprint },
            classNames: [...runNames],
            weights: fit.weights,
            settings: { ...fit.settings, shots, seed },
            metrics: { train_acc: trainAcc, ...Object.fromEntries(Object.entries(acc).map(([s, a]) => [`${s.replace('/', '_')}_acc`, a])) },
            created: new Date().toISOString(),
          };
          const text = serializeAdapterFile(file, dim);
          const back = parseAdapterFile(text, { id: file.model.id, imageFingerprint: file.model.imageFingerprint, dim });
          if (!back.ok) throw new Error(`the ${label} file does not read back: ${back.error}`);
          const where = path.join(out, 'prompts', `${shots}shot`, `${method}-seed${seed}.json`);
          mkdirSync(path.dirname(where), { recursive: true });
          writeFileSync(where, text);
          promptFiles++;
          (task as ReturnType<Progress['task']> | null)?.done(`${fit.note}; train ${pct(trainAcc)}%`);
          finish({ shots, method: label, seed, accuracy: acc }, { train_seconds: secs, detail: { shots, seed, method: label, train_seconds: secs, ...fit.settings } });
          runsDone++;
          log(`${tag}: ${formatDuration(secs * 1000)} (${fit.note}); ${Object.entries(acc).map(([s, a]) => `${s} ${pct(a)}%`).join(', ')}; → ${where} (${adapterFileName(file)} in the app)`);
          writeOutputs();
          continue;
        }
        const tRun = performance.now();
        const r = runTipAdapter(method, { viewFeatures, nImages: chosen.length, nViews: base.views, dim, labels, nClasses: poolClasses, seed, zsText: runText, logitScale: l.model.manifest.logit_scale, val: splits.find((s) => s.name === 'val'), baseIdx: baseToNew ? baseIdx : null, subset }, (e) => log(`${tag}: epoch ${e.epoch}/${e.epochs}, loss ${e.loss.toFixed(4)}, train acc ${pct(e.trainAcc)}%`));
        const secs = (performance.now() - tRun) / 1000;
        const tipOn: Predictor = (f, n) => argmaxRows(r.logits(f), n, poolClasses);
        // New classes have no cache entries: the adapter falls back to zero-shot CLIP among the new classes.
        const acc = baseToNew
          ? baseToNewAccuracies(splits, classSplit, dim, tipOn, byText(await zsNewText()))
          : Object.fromEntries(splits.filter((s) => s.labels.length).map((s) => [s.name, accuracy(tipOn(s.features, s.labels.length), s.labels)]));
        finish({ shots, method: label, seed, accuracy: acc }, { train_seconds: secs });
        runsDone++;
        log(`${tag}: ${formatDuration(secs * 1000)} (α ${r.params.alpha.toFixed(3)}, β ${r.params.beta.toFixed(3)}${r.searched ? ', searched on val' : ', official defaults'}); ${Object.entries(acc).map(([s, a]) => `${s} ${pct(a)}%`).join(', ')}`);
        writeOutputs();
      }
      for (const method of promptMethods) for (const csc of cscs) {
        const settings: TrainSettings = { ...settingsOf(method), csc, seed };
        const label = configLabel(settings, method);
        if (!isTodo(shots, seed, label)) continue;
        const dims = { D: l.weights.config.D, E: dim, L: l.weights.config.L, K: runNames.length };
        // The trained classes' hand-written prompts (the dataset's template): KgCoOp's and ProGrad's anchors, TCP's
        // class-token input, KgCoOp's anchors under DePT.
        const hand = needsHandWritten(method) ? await handText(runNames, [source.zsTemplate]) : null;
        const init = initialContext(l, settings, runNames.length);
        if (init.note) log(`note: ${init.note}`);
        // A successor's tensors beside the context (Meta-Net, deep tokens, class MLP, DePT's head), seeded by the run.
        const ctx = isSuccessor(method) ? withSuccessorExtras(init.ctx, method, dims, seed) : init.ctx;
        engine.setPrompts(promptSpec(l, runNames, ctx.nCtx, ctx.cscClasses > 0, settings.position));
        // The method changes the loss, the gradient and the scores, never the loop (src/coop/prompt-learner.ts).
        const learner = promptLearner(methodLearnerConfig(method, ms, hand, l.model.manifest.logit_scale, dims), {
          step: (c, f, y, tg, sg) => engine.step(c.data, f, y, tg, sg),
          tower: (input) => engine.towerStep(input),
          textFeatures: (c) => engine.textFeatures(c),
        });
        const trainer = new CoopTrainer({
          settings: { ...settings, nCtx: ctx.nCtx },
          data: { viewFeatures, nImages: chosen.length, nViews: base.views, dim, labels, nClasses: poolClasses },
          initialContext: ctx,
          lossAndGrad: learner.lossAndGrad,
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
        // Evaluation through the method's own scores (prompt-learner.ts), one class set at a time while it is the
        // engine's prompts (CoCoOp builds its per-image prompts at every call).
        const scorerFor = async (classNames: readonly string[], which: 'base' | 'new', handWritten: Float32Array | null) => {
          engine.setPrompts(promptSpec(l, classNames, final.nCtx, final.cscClasses > 0, settings.position));
          const sc = await learner.scorer(final, { which, nClasses: classNames.length, handWritten });
          return async (f: Float32Array, n: number) => argmaxRows(await sc.logits(f), n, classNames.length);
        };
        const onBase = await scorerFor(runNames, 'base', hand);
        const trainAcc = accuracy(await onBase(cleanF, labels.length), labels);
        const acc: Record<string, number> = {};
        if (baseToNew) {
          // Base-to-new: each split's base images among the base classes, its new images among the new classes with
          // the learned unified context (and a successor's tensors); TCP's class tokens from their hand-written prompts.
          const parts = baseToNewParts(splits, classSplit, dim, true);
          for (const pt of parts.filter((x) => x.part === 'base')) acc[pt.key] = accuracy(await onBase(pt.sub.features, pt.sub.labels.length), pt.sub.labels);
          const onNew = await scorerFor(newNames, 'new', method === 'tcp' ? await zsNewText() : null);
          for (const pt of parts.filter((x) => x.part === 'new')) acc[pt.key] = accuracy(await onNew(pt.sub.features, pt.sub.labels.length), pt.sub.labels);
        } else {
          for (const sp of splits) if (sp.labels.length) acc[sp.name] = accuracy(await onBase(sp.features, sp.labels.length), sp.labels);
          // Another dataset's classes are new to the method (DePT scores them by similarity alone).
          for (const { target, split } of targetSets) {
            if (!split.labels.length) continue;
            const on = await scorerFor(target.classNames, 'new', method === 'tcp' ? await handText(target.classNames, [target.template]) : null);
            acc[target.name] = accuracy(await on(split.features, split.labels.length), split.labels);
          }
        }
        const secs = (performance.now() - tRun) / 1000;
        runTimes.push(secs);
        task.done(`${failed ? `FAILED: ${failed}; ` : ''}${method === 'prograd' ? `projected ${projected} of ${trainer.totalSteps} steps; ` : ''}loss ${lastLoss.toFixed(4)}, train ${pct(trainAcc)}%, ${Object.entries(acc).map(([s, a]) => `${s} ${pct(a)}%`).join(', ')}`);
        const runInfo = { shots, seed, method: label, train_seconds: secs, steps: trainer.position.step, epochs: trainer.maxEpochs, final_loss: lastLoss, engine: engine.kind, failed };
        runLog.push(runInfo);
        runsDone++;
        // The learned prompt in the app's format, checked with the app's own parser before it is written.
        const prompt: LearnedPrompt = {
          model: { id: promptModel.id, fingerprint: promptModel.fingerprint },
          context: final,
          // A successor's file says which method made it and what its prediction needs (version 2).
          ...(isSuccessor(method) ? { method: successorFileMethod(method, ms, { L: l.weights.config.L, template: source.zsTemplate, baseClasses: [...runNames] }) } : {}),
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
        // The run's record last: a kill before this line redoes the run, after it never.
        finish({ shots, method: label, seed, accuracy: acc }, { train_seconds: secs, detail: runInfo });
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
  log(`wrote ${path.join(out, 'results.md')}, ${path.join(out, 'results.json')}, ${store.all.length} run record(s) under ${path.join(out, 'runs')} and ${promptFiles} prompt file(s) under ${path.join(out, 'prompts')}; wall time ${formatDuration(performance.now() - t0)}`);
  if (shard.count > 1) log(`shard ${shard.index}/${shard.count} done: join the shards' tables with  npm run coop -- merge ${out} <the other shards' --out folders>`);
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
