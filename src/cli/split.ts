/**
 * `coop split --data DIR --dataset NAME --shots K --seed S [--subsample all|base|new]`: the official few-shot
 * subset as Dassl builds it, printed as {"train": [...], "val": [...], "test": [...]} of [impath, label, classname]
 * rows (impath as the split file has it, labels after subsampling), in Dassl's order.
 */
import { ArgError, need, oneOf, positiveInt, str, type Parsed } from './args';
import { DATASET_NAMES } from './datasets/catalog';
import { readCoopDataset } from './datasets/coop-layout';
import { officialSubset, type Datum, type Subsample } from './datasets/dassl-fewshot';

export const SPLIT_OPTIONS = { data: 'value', dataset: 'value', shots: 'value', seed: 'value', subsample: 'value' } as const;

export function datasetName(p: Parsed): string {
  const name = need(p, 'dataset', `NAME (one of ${DATASET_NAMES.join(', ')})`);
  if (!DATASET_NAMES.includes(name)) throw new ArgError(`--dataset: unknown dataset '${name}': use one of ${DATASET_NAMES.join(', ')}`);
  return name;
}

const row = (d: Datum) => JSON.stringify([d.impath, d.label, d.classname]);

export function runSplit(p: Parsed, out: (s: string) => void = (s) => process.stdout.write(s), log: (s: string) => void = (s) => process.stderr.write(s + '\n')): void {
  const data = need(p, 'data', 'DIR ($DATA, the folder holding the datasets in the layout of CoOp\'s DATASETS.md)');
  const name = datasetName(p);
  const shots = positiveInt(p, 'shots', NaN);
  if (!Number.isFinite(shots)) throw new ArgError('--shots K is required (images per class, as DATASET.NUM_SHOTS)');
  // Dassl seeds Python's random with any cfg.SEED >= 0 (train.py); 0 is a seed like any other.
  const seedArg = str(p, 'seed') ?? '1';
  const seed = Number(seedArg);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new ArgError(`--seed takes an integer ≥ 0 (Dassl's cfg.SEED), got '${seedArg}'`);
  const subsample = oneOf<Subsample>(p, 'subsample', ['all', 'base', 'new'], 'all');
  const ds = readCoopDataset(data, name);
  for (const n of ds.notes) log(`note: ${n}`);
  if (ds.info.testOnly) log(`note: ${name} is evaluation only: Dassl uses the whole folder as its test set; train and val are empty here`);
  if (name === 'imagenet') log('note: ImageNet draws no few-shot val: Dassl uses the test set (the official val images) as val');
  if (ds.info.testOnly && subsample !== 'all') throw new ArgError(`--subsample ${subsample} splits classes by the training set's labels, and ${name} has none (evaluation only)`);
  const sub = ds.info.testOnly ? ds.splits : officialSubset(ds.splits, { shots, seed, subsample, valIsTest: name === 'imagenet' });
  const block = (rows: Datum[]) => (rows.length ? `[\n  ${rows.map(row).join(',\n  ')}\n ]` : '[]');
  out(`{\n "train": ${block(sub.train)},\n "val": ${block(sub.val)},\n "test": ${block(sub.test)}\n}\n`);
  log(`${name}: train ${sub.train.length}, val ${sub.val.length}, test ${sub.test.length} rows (${shots} shots, seed ${seed}, subsample ${subsample}) from ${ds.root}`);
}

