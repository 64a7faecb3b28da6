/**
 * npm run models:standin -- [--shape vit-b32|vit-b16|tiny] [--out DIR] [--seed N] [--synthetic-vocab] [--fp16-compute]
 *
 * Writes a random-weight CLIP folder in the published transformers.js layout (default: ViT-B/32 into
 * .cache/models/clip-vit-base-patch32-standin/) and prints each file's size and the time taken.
 */
import { SHAPES, writeStandin, type StandinShapeName } from './standin';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  if (i < 0) return undefined;
  const v = process.argv[i + 1];
  if (!v || v.startsWith('--')) fail(`${name} needs a value`);
  return v;
}

function fail(msg: string): never {
  process.stderr.write(`models:standin: ${msg}\n`);
  process.exit(2);
}

const shape = (arg('--shape') ?? 'vit-b32') as StandinShapeName;
if (!(shape in SHAPES)) fail(`--shape must be one of ${Object.keys(SHAPES).join(', ')} (got ${shape})`);
const seed = arg('--seed') === undefined ? 1 : Number(arg('--seed'));
if (!Number.isInteger(seed)) fail(`--seed must be an integer`);
const r = writeStandin({
  shape,
  out: arg('--out'),
  seed,
  syntheticVocab: process.argv.includes('--synthetic-vocab'),
  // Half-precision activations in the *_fp16.onnx files (the converter's default) instead of Casts to float.
  fp16: process.argv.includes('--fp16-compute') ? 'compute' : 'cast',
  log: (l) => process.stderr.write(`models:standin: ${l}\n`),
});
for (const f of r.files) console.log(`${f.path.padEnd(32)} ${(f.bytes / 1e6).toFixed(1).padStart(8)} MB`);
console.log(`wrote ${r.dir} (${r.vocabulary} vocabulary) in ${r.seconds.toFixed(1)} s`);
