/**
 * A random-weight CLIP folder in exactly the layout and shapes transformers.js publishes for
 * Xenova/clip-vit-base-patch32 (and -patch16): config.json, preprocessor_config.json, tokenizer.json and
 * onnx/{text_model,text_model_fp16,vision_model,vision_model_fp16}.onnx, no manifest. No real CLIP weights
 * can be downloaded here; tests and benchmarks of full-size loading, encoding and training use this instead.
 * Speed and memory depend on shapes, not values; the values are drawn small enough that every activation
 * stays finite and the load-time proof (engine vs ORT) is meaningful.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLIP_MEAN, CLIP_STD } from '../../src/preprocess/config';
import { textTower, visionTower, Weights, type Precision, type TextShape, type VisionShape } from './graph';
import { writeModelFile } from './onnx-proto';
import { clipVocabulary, defaultVocabGz, syntheticVocabulary, tokenizerJson, type Vocabulary } from './vocab';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Bumped whenever the generated files change, so a cached folder from an older generator is rebuilt. */
export const GENERATOR_VERSION = 1;
const MARKER = '.standin-complete';
const markerText = (seed: number, fp16: 'cast' | 'compute') => JSON.stringify({ version: GENERATOR_VERSION, seed, fp16 });

export type StandinShapeName = 'vit-b32' | 'vit-b16' | 'tiny';

interface StandinShape {
  /** The published repo's last part: the folder name starts with it. */
  repo: string;
  text: TextShape;
  vision: VisionShape;
  /** Merges of the synthetic vocabulary (CLIP has 48,894); `clip` uses OpenAI's where available. */
  vocab: 'clip' | number;
}

const B_TEXT: TextShape = { width: 512, layers: 12, heads: 8, intermediate: 2048, eps: 1e-5, vocab: 49408, positions: 77, projection: 512 };
const B_VISION = { width: 768, layers: 12, heads: 12, intermediate: 3072, eps: 1e-5, imageSize: 224, projection: 512 };

export const SHAPES: Record<StandinShapeName, StandinShape> = {
  'vit-b32': { repo: 'clip-vit-base-patch32', text: B_TEXT, vision: { ...B_VISION, patch: 32 }, vocab: 'clip' },
  'vit-b16': { repo: 'clip-vit-base-patch16', text: B_TEXT, vision: { ...B_VISION, patch: 16 }, vocab: 'clip' },
  // For unit tests: the same graphs at a size that builds and runs in milliseconds.
  tiny: {
    repo: 'clip-tiny',
    text: { width: 32, layers: 2, heads: 2, intermediate: 128, eps: 1e-5, vocab: 1024, positions: 77, projection: 24 },
    vision: { width: 48, layers: 2, heads: 2, intermediate: 192, eps: 1e-5, imageSize: 32, patch: 16, projection: 24 },
    vocab: 1024 - 512 - 2,
  },
};

export interface StandinOptions {
  shape: StandinShapeName;
  /** The folder to write; default `.cache/models/<name>/`. */
  out?: string;
  seed?: number;
  /** Force the synthetic vocabulary even where CLIP's merges file is present. */
  syntheticVocab?: boolean;
  /**
   * How the *_fp16.onnx files compute: `cast` (default): half initializers cast up to float by Cast nodes,
   * compute in float; `compute`: half activations too, Casts only at the float inputs and outputs, as
   * onnxconverter's keep_io_types leaves every op it does not block.
   */
  fp16?: 'cast' | 'compute';
  log?: (line: string) => void;
}

export interface StandinResult {
  dir: string;
  name: string;
  vocabulary: 'clip' | 'synthetic';
  files: Array<{ path: string; bytes: number }>;
  seconds: number;
}

function vocabularyFor(shape: StandinShape, forceSynthetic: boolean, log: (l: string) => void): Vocabulary {
  if (shape.vocab === 'clip') {
    const gz = forceSynthetic ? null : defaultVocabGz(REPO_ROOT);
    if (gz) return clipVocabulary(gz);
    log(
      forceSynthetic
        ? 'using a synthetic vocabulary, as asked'
        : `../shared/clip-tokenizer/bpe_simple_vocab_16e6.txt.gz is absent: building a synthetic vocabulary of CLIP's size and structure (49,408 tokens) instead`,
    );
    return syntheticVocabulary();
  }
  return syntheticVocabulary(shape.vocab);
}

/** The folder name: says which vocabulary it holds, so two stand-ins never share a cache entry. */
export function standinName(shapeName: StandinShapeName, vocabulary: 'clip' | 'synthetic'): string {
  const shape = SHAPES[shapeName];
  return shape.vocab === 'clip' && vocabulary === 'synthetic' ? `${shape.repo}-standin-synthvocab` : `${shape.repo}-standin`;
}

function configJson(shapeName: StandinShapeName, shape: StandinShape, vocab: Vocabulary, seed: number, fp16: Precision): unknown {
  const { text, vision } = shape;
  return {
    _name_or_path: `openai/${shape.repo}`,
    // Not in published configs: says what this folder is, for anyone who finds it.
    _standin: {
      generator: 'tools/clip-standin (npm run models:standin)',
      version: GENERATOR_VERSION,
      shape: shapeName,
      seed,
      weights: 'random',
      fp16_files: fp16 === 'fp16' ? 'half initializers, Cast to float before use' : 'half initializers and activations, Cast at inputs and outputs',
      vocabulary: vocab.kind === 'clip' ? "CLIP's (bpe_simple_vocab_16e6.txt.gz)" : 'synthetic (same size and structure as CLIP\'s)',
    },
    architectures: ['CLIPModel'],
    initializer_factor: 1.0,
    logit_scale_init_value: 2.6592,
    model_type: 'clip',
    projection_dim: text.projection,
    text_config: {
      model_type: 'clip_text_model',
      vocab_size: vocab.tokens.length,
      hidden_size: text.width,
      intermediate_size: text.intermediate,
      num_hidden_layers: text.layers,
      num_attention_heads: text.heads,
      max_position_embeddings: text.positions,
      hidden_act: 'quick_gelu',
      layer_norm_eps: text.eps,
      // As in the published configs: placeholders the loader knows to ignore.
      bos_token_id: 0,
      eos_token_id: 2,
      pad_token_id: 1,
      projection_dim: text.projection,
    },
    vision_config: {
      model_type: 'clip_vision_model',
      hidden_size: vision.width,
      intermediate_size: vision.intermediate,
      num_hidden_layers: vision.layers,
      num_attention_heads: vision.heads,
      image_size: vision.imageSize,
      patch_size: vision.patch,
      num_channels: 3,
      hidden_act: 'quick_gelu',
      layer_norm_eps: vision.eps,
      projection_dim: vision.projection,
    },
    torch_dtype: 'float32',
    transformers_version: '4.45.0',
  };
}

function preprocessorJson(size: number): unknown {
  return {
    crop_size: { height: size, width: size },
    do_center_crop: true,
    do_convert_rgb: true,
    do_normalize: true,
    do_rescale: true,
    do_resize: true,
    feature_extractor_type: 'CLIPFeatureExtractor',
    image_mean: CLIP_MEAN,
    image_processor_type: 'CLIPImageProcessor',
    image_std: CLIP_STD,
    resample: 3,
    rescale_factor: 0.00392156862745098,
    size: { shortest_edge: size },
  };
}

/** Writes the folder; returns what it wrote and how long it took. */
export function writeStandin(opts: StandinOptions): StandinResult {
  const started = performance.now();
  const log = opts.log ?? (() => {});
  const shape = SHAPES[opts.shape];
  if (!shape) throw new Error(`unknown stand-in shape ${JSON.stringify(opts.shape)}; use one of ${Object.keys(SHAPES).join(', ')}`);
  const seed = opts.seed ?? 1;
  const vocab = vocabularyFor(shape, !!opts.syntheticVocab, log);
  const name = standinName(opts.shape, vocab.kind);
  const dir = resolve(opts.out ?? join(REPO_ROOT, '.cache/models', name));
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  const files: StandinResult['files'] = [];
  const writeJson = (path: string, json: unknown) => {
    const text = JSON.stringify(json, null, 2) + '\n';
    writeFileSync(join(dir, path), text);
    files.push({ path, bytes: Buffer.byteLength(text) });
  };
  const fp16: Precision = opts.fp16 === 'compute' ? 'fp16-compute' : 'fp16';
  writeJson('config.json', configJson(opts.shape, shape, vocab, seed, fp16));
  writeJson('preprocessor_config.json', preprocessorJson(shape.vision.imageSize));
  writeJson('tokenizer.json', tokenizerJson(vocab));
  const text: TextShape = { ...shape.text, vocab: vocab.tokens.length };

  // One tower at a time, so only one tower's weights are held.
  const towers: Array<['text' | 'vision', Precision[]]> = [
    ['text', ['fp32', fp16]],
    ['vision', ['fp32', fp16]],
  ];
  for (const [tower, precisions] of towers) {
    const w = new Weights(seed * 7919 + (tower === 'text' ? 1 : 2));
    for (const p of precisions) {
      const t0 = performance.now();
      const model = tower === 'text' ? textTower(p, w, text) : visionTower(p, w, shape.vision);
      const path = `onnx/${tower}_model${p === 'fp32' ? '' : '_fp16'}.onnx`;
      const bytes = writeModelFile(join(dir, path), model);
      files.push({ path, bytes });
      log(`${path}: ${(bytes / 1e6).toFixed(1)} MB in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
    w.clear();
  }
  // Last, so a run cut short leaves no marker: ensureStandin reuses only a folder that has it.
  writeFileSync(join(dir, MARKER), markerText(seed, opts.fp16 ?? 'cast'));
  return { dir, name, vocabulary: vocab.kind, files, seconds: (performance.now() - started) / 1000 };
}

/**
 * The stand-in for `shape` under `.cache/models/` (ignored by git), generated on first use and reused after:
 * written to a temporary folder and renamed into place, so a run cut short never leaves a half folder that
 * looks complete, and two test processes asking at once both end up with a whole one.
 */
export function ensureStandin(shape: StandinShapeName, opts: Omit<StandinOptions, 'shape' | 'out'> = {}): string {
  const probe = SHAPES[shape];
  const vocabKind = probe.vocab !== 'clip' || opts.syntheticVocab || !defaultVocabGz(REPO_ROOT) ? 'synthetic' : 'clip';
  const dir = join(REPO_ROOT, '.cache/models', standinName(shape, vocabKind));
  const marker = join(dir, MARKER);
  const wanted = markerText(opts.seed ?? 1, opts.fp16 ?? 'cast');
  if (existsSync(marker) && readFileSync(marker, 'utf8') === wanted) return dir;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  writeStandin({ ...opts, shape, out: tmp });
  const complete = () => existsSync(marker) && readFileSync(marker, 'utf8') === wanted;
  // Another process may have finished first while this one generated: keep its folder (it may be reading it).
  if (complete()) {
    rmSync(tmp, { recursive: true, force: true });
    return dir;
  }
  rmSync(dir, { recursive: true, force: true });
  try {
    renameSync(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (!complete()) throw e;
  }
  return dir;
}
