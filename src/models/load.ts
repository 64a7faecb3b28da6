/**
 * The one model loader. Every host (the page, the worker, Node scripts, the command line) reads a model
 * folder through it, and it reads files only through a ModelSource, so a bundled folder, a hub download,
 * a folder from disk, the browser's store and a Node directory are checked alike.
 *
 * Order matters: describeModel reads only the small JSON files and refuses a folder that is not a usable
 * CLIP (wrong model_type, a tower missing, embed dims that differ, EOS not the largest id) before any large
 * ONNX file is read; readTower then reads one tower's file in the chosen dtype.
 *
 * Folders as published (transformers.js layout) need no manifest.json: the id is the source's name, image
 * size and mean/std come from preprocessor_config.json, the embed dim from config.json's projection_dim, and
 * the logit scale defaults to 100 (OpenAI's trained logit_scale.exp(); the ONNX files do not hold it).
 * A manifest, where present, still wins.
 */
import { loadTextWeights, maxTextModelBytes, textConfigFromJson, type TextWeights } from '../engine/model/text-weights';
import { onnxFramingProblem } from '../engine/model/onnx-reader';
import { loadPreprocessorConfig, type PreprocessConfig } from '../preprocess/config';
import { tokenizerFromHfJson, type ClipTokenizer, type HfTokenizerJson } from '../tokenizer';
import { checkBytes, LIMITS, TooLargeError } from '../input-limits';
import { ModelFileError, parseJsonFile, showValue } from './errors';
import type { ModelSource, ReadOptions } from './source';
import { bundledSource } from './sources/bundled';
import { MODEL_FILES, towerPath, type ModelIndexEntry, type ModelManifest, type Tower, type TowerDtype } from './types';
import { checkManifestAgainstConfigs, validateManifest } from './validate';

export { towerPath, type Tower, type TowerDtype };
/** The engine reads text weights stored as fp32 or fp16; a quantized text file it cannot read. */
export const TEXT_DTYPES: readonly TowerDtype[] = ['fp32', 'fp16'];
/** ORT runs the image tower in any of these; preference order when the caller does not choose. */
export const VISION_DTYPES: readonly TowerDtype[] = ['fp32', 'fp16', 'quantized'];


export interface TowerFile {
  tower: Tower;
  dtype: TowerDtype;
  /** Path inside the folder. */
  path: string;
  /** How the file is named in messages (source.describe(path)). */
  file: string;
  /** Bytes, where the source can tell without reading. */
  size?: number;
}

/**
 * Where the logit scale came from, so the page can show it and let the user change it: the user's own value
 * (stored with the model), manifest.json's, or the default for OpenAI's checkpoints.
 */
export type LogitScaleOrigin = 'user' | 'manifest' | 'default';

export const DEFAULT_LOGIT_SCALE = 100;

/** Everything about a model folder except the ONNX bytes: what describeModel returns. */
export interface ModelDescription {
  /** manifest id, or the source's name */
  id: string;
  name: string;
  /** The source's own name (repo's last part or folder name). */
  folder: string;
  sourceKind: ModelSource['kind'];
  /** What the app sizes its buffers from: manifest.json where present, otherwise derived from the configs. */
  manifest: ModelManifest;
  hasManifestFile: boolean;
  imageSize: number;
  embedDim: number;
  contextLength: number;
  textWidth: number;
  logitScale: number;
  logitScaleOrigin: LogitScaleOrigin;
  preprocess: PreprocessConfig;
  preprocessorConfig: unknown;
  config: Record<string, unknown>;
  tokenizer: ClipTokenizer;
  /** The tower files present, in preference order (fp32 first). */
  files: { text: TowerFile[]; vision: TowerFile[] };
}

export interface DescribeOptions {
  signal?: AbortSignal;
  onBytes?: (delta: number) => void;
  /** A logit scale the user set for this model (already exponentiated); wins over manifest and default. */
  logitScale?: number;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const positiveInt = (v: unknown): number | undefined => (Number.isInteger(v) && (v as number) > 0 ? (v as number) : undefined);

/** The size a model folder's JSON file may have: CLIP's tokenizer.json is 2.2 MB, the others a few KB. */
const jsonLimit = (path: string) => (path === MODEL_FILES.tokenizer ? LIMITS.tokenizerJsonBytes : LIMITS.modelJsonBytes);

async function readJson(source: ModelSource, path: string, opts: DescribeOptions): Promise<unknown> {
  const file = source.describe(path);
  const limit = jsonLimit(path);
  const advice = 'use the file as published with the model';
  // Refused by its declared size where the source knows it, else as its bytes arrive; checked again here for any source.
  const bytes = await source.read(path, { ...opts, maxBytes: limit, maxBytesAdvice: advice });
  checkBytes(file, bytes.byteLength, limit, advice);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ModelFileError(source.describe(path), 'is not valid UTF-8 text; replace it with the file as published');
  }
  return parseJsonFile(text, source.describe(path));
}

/** Refuses a config that is not a two-tower CLIP with one shared embedding space. */
function checkClipConfig(config: unknown, file: string): asserts config is Json {
  if (!isObject(config)) throw new ModelFileError(file, 'must hold a JSON object; replace it with the config.json published with the model');
  const type = config.model_type;
  if (type !== 'clip') {
    throw new ModelFileError(
      file,
      `has model_type ${showValue(type ?? null)}, not "clip"; this app learns prompts for CLIP models only: ` +
        'choose a CLIP model (e.g. Xenova/clip-vit-base-patch32)',
    );
  }
  for (const tower of ['text_config', 'vision_config'] as const) {
    if (!isObject(config[tower])) {
      throw new ModelFileError(file, `has no ${tower}; a CLIP config.json describes both towers: use the config.json published with the model`);
    }
  }
  const dims: Array<[string, unknown]> = [
    ['projection_dim', config.projection_dim],
    ['text_config.projection_dim', (config.text_config as Json).projection_dim],
    ['vision_config.projection_dim', (config.vision_config as Json).projection_dim],
  ];
  const given = dims.filter(([, v]) => v !== undefined);
  for (const [where, v] of given) {
    if (!positiveInt(v)) throw new ModelFileError(file, `${where} must be a positive integer (got ${showValue(v)}); fix or replace the file`);
  }
  const text = (config.text_config as Json).projection_dim ?? config.projection_dim;
  const vision = (config.vision_config as Json).projection_dim ?? config.projection_dim;
  if (text !== undefined && vision !== undefined && text !== vision) {
    throw new ModelFileError(
      file,
      `gives the text tower embed dim ${String(text)} but the vision tower ${String(vision)}; CLIP compares both in one ` +
        'space, so the towers must come from the same model: use a folder whose towers were trained together',
    );
  }
  if (!given.length) {
    throw new ModelFileError(file, 'has no projection_dim (the embed dim); add "projection_dim" as in the published config.json');
  }
}

function buildTokenizer(json: unknown, config: Json, file: string): ClipTokenizer {
  let tokenizer: ClipTokenizer;
  try {
    tokenizer = tokenizerFromHfJson(json as HfTokenizerJson);
  } catch (e) {
    if (e instanceof TooLargeError) throw new TooLargeError(`${file} ${e.what}`, e.actual, e.limit, 'use the tokenizer.json published with the model');
    throw new ModelFileError(file, `cannot be read as a CLIP tokenizer (${(e as Error).message}); use the tokenizer.json published with the model`);
  }
  // The text tower pools at argmax(token ids), which is only the EOS position if EOS has the largest id.
  if (tokenizer.eosId !== tokenizer.vocabSize - 1) {
    throw new ModelFileError(
      file,
      `has EOS id ${tokenizer.eosId}, not the largest id ${tokenizer.vocabSize - 1}; CLIP's text tower reads the feature at the ` +
        'largest id, so this vocabulary does not fit it: use the tokenizer.json published with the model',
    );
  }
  const eos = (config.text_config as Json | undefined)?.eos_token_id;
  // Hugging Face's CLIP configs long carried eos_token_id 2 as a placeholder, so only a plausible id is compared.
  if (typeof eos === 'number' && eos > 2 && eos !== tokenizer.eosId) {
    throw new ModelFileError(
      file,
      `has EOS id ${tokenizer.eosId} but config.json text_config.eos_token_id is ${eos}; the two files come from different models: use both as published`,
    );
  }
  return tokenizer;
}

/** What a manifest would say, from the configs of a folder as published. */
function derivedManifest(name: string, config: Json, preprocess: PreprocessConfig): ModelManifest {
  const text = config.text_config as Json;
  const embed = positiveInt(config.projection_dim) ?? positiveInt(text.projection_dim) ?? positiveInt((config.vision_config as Json).projection_dim);
  const manifest: ModelManifest = {
    id: name,
    name,
    image_size: preprocess.cropHeight,
    embed_dim: embed as number,
    logit_scale: DEFAULT_LOGIT_SCALE,
    context_length: positiveInt(text.max_position_embeddings) ?? 77,
  };
  const width = positiveInt(text.hidden_size);
  if (width) manifest.text_width = width;
  return manifest;
}

async function towerFiles(source: ModelSource, tower: Tower, dtypes: readonly TowerDtype[], signal?: AbortSignal): Promise<TowerFile[]> {
  const found = await Promise.all(
    dtypes.map(async (dtype): Promise<TowerFile | null> => {
      const path = towerPath(tower, dtype);
      if (!(await source.has(path, signal))) return null;
      return { tower, dtype, path, file: source.describe(path), size: await source.size(path, signal) };
    }),
  );
  return found.filter((f): f is TowerFile => f !== null);
}

/**
 * Reads and checks the small files of a model folder (config.json, preprocessor_config.json, tokenizer.json,
 * manifest.json where present) and lists the tower files present. Reads no ONNX bytes.
 */
export async function describeModel(source: ModelSource, opts: DescribeOptions = {}): Promise<ModelDescription> {
  const configFile = source.describe(MODEL_FILES.config);
  const hasManifestFile = await source.has(MODEL_FILES.manifest, opts.signal);
  // config.json first: a folder that is not CLIP is refused before anything else is fetched.
  const config = await readJson(source, MODEL_FILES.config, opts);
  checkClipConfig(config, configFile);
  const [preprocessorConfig, tokenizerJson, manifestJson] = await Promise.all([
    readJson(source, MODEL_FILES.preprocessor, opts),
    readJson(source, MODEL_FILES.tokenizer, opts),
    hasManifestFile ? readJson(source, MODEL_FILES.manifest, opts) : Promise.resolve(undefined),
  ]);
  let preprocess: PreprocessConfig;
  try {
    preprocess = loadPreprocessorConfig(preprocessorConfig);
  } catch (e) {
    const detail = (e as Error).message.replace(/^preprocessor_config\.json:?\s*/, '');
    throw new ModelFileError(source.describe(MODEL_FILES.preprocessor), `${detail}; use the preprocessor_config.json published with the model`);
  }
  const folderLabel = source.name;
  let manifest: ModelManifest;
  if (manifestJson !== undefined) {
    manifest = validateManifest(manifestJson, folderLabel, source.describe(MODEL_FILES.manifest));
    checkManifestAgainstConfigs(manifest, config, preprocessorConfig, folderLabel, source.describe(MODEL_FILES.manifest));
  } else {
    manifest = derivedManifest(source.name, config, preprocess);
    const vision = (config.vision_config as Json).image_size;
    if (vision !== undefined && vision !== manifest.image_size) {
      throw new ModelFileError(
        source.describe(MODEL_FILES.preprocessor),
        `crops to ${manifest.image_size} px but config.json vision_config.image_size is ${String(vision)}; use both files as published`,
      );
    }
  }
  const tokenizer = buildTokenizer(tokenizerJson, config, source.describe(MODEL_FILES.tokenizer));
  let logitScaleOrigin: LogitScaleOrigin = manifestJson !== undefined ? 'manifest' : 'default';
  if (opts.logitScale !== undefined) {
    if (!(Number.isFinite(opts.logitScale) && opts.logitScale > 0)) {
      throw new ModelFileError(source.name, `has a logit scale of ${opts.logitScale} set for it; set a positive number (100 for OpenAI's CLIP)`);
    }
    manifest = { ...manifest, logit_scale: opts.logitScale };
    logitScaleOrigin = 'user';
  }
  const [text, vision] = await Promise.all([
    towerFiles(source, 'text', TEXT_DTYPES, opts.signal),
    towerFiles(source, 'vision', VISION_DTYPES, opts.signal),
  ]);
  if (!text.length) {
    throw new ModelFileError(
      source.describe(towerPath('text', 'fp32')),
      `is missing, and so is ${towerPath('text', 'fp16')}; add the text tower as transformers.js publishes it (onnx/text_model.onnx or onnx/text_model_fp16.onnx)`,
    );
  }
  if (!vision.length) {
    throw new ModelFileError(
      source.describe(towerPath('vision', 'fp32')),
      `is missing, and so are the ${VISION_DTYPES.slice(1).join(' and ')} files; add the image tower as transformers.js publishes it ` +
        `(${VISION_DTYPES.map((d) => towerPath('vision', d)).join(', ')})`,
    );
  }
  return {
    id: manifest.id,
    name: manifest.name,
    folder: source.name,
    sourceKind: source.kind,
    manifest,
    hasManifestFile,
    imageSize: manifest.image_size,
    embedDim: manifest.embed_dim,
    contextLength: manifest.context_length ?? 77,
    textWidth: manifest.text_width ?? ((config.text_config as Json).hidden_size as number),
    logitScale: manifest.logit_scale,
    logitScaleOrigin,
    preprocess,
    preprocessorConfig,
    config,
    tokenizer,
    files: { text, vision },
  };
}

/** The file for a tower: the dtype asked for, or the first present in preference order. */
export function pickTowerFile(desc: ModelDescription, tower: Tower, dtype?: TowerDtype): TowerFile {
  const files = desc.files[tower];
  const file = dtype ? files.find((f) => f.dtype === dtype) : files[0];
  if (!file) {
    const have = files.map((f) => f.dtype).join(', ') || 'none';
    throw new ModelFileError(
      dtype ? towerPath(tower, dtype) : `the ${tower} tower`,
      `is not in ${desc.folder} (it has ${tower} files in: ${have}); choose one of those dtypes`,
    );
  }
  return file;
}

export interface TowerBytes extends TowerFile {
  bytes: Uint8Array;
}

/**
 * Reads one tower's ONNX file and checks that it is whole: its size where the source knew it, and its
 * protobuf framing (a download cut short is named here, not by onnxruntime later).
 */
export async function readTower(
  source: ModelSource,
  desc: ModelDescription,
  tower: Tower,
  dtype?: TowerDtype,
  opts: ReadOptions = {},
): Promise<TowerBytes> {
  const file = pickTowerFile(desc, tower, dtype);
  const bytes = await source.read(file.path, { ...opts, ...towerLimit(desc, tower) });
  checkOnnxBytes(bytes, file.file, file.size);
  return { ...file, bytes };
}

/**
 * The most bytes a tower file may have. The text tower's follow from config.json (its weights in fp32 and room for the
 * graph), so a file declaring far more is refused before its bytes are held; the image tower, which onnxruntime
 * reads, is held to the largest text tower's size (a ViT-bigG image tower is ~7 GB, beyond what a page holds anyway).
 */
function towerLimit(desc: ModelDescription, tower: Tower): ReadOptions {
  if (tower === 'text') {
    try {
      const cfg = textConfigFromJson(desc.config);
      return { maxBytes: maxTextModelBytes(cfg), maxBytesAdvice: `a text tower of config.json's shape (D=${cfg.D}, layers=${cfg.L}, vocab=${cfg.V}) holds no more; use the files as published` };
    } catch {
      // The config is refused with its own message where the weights are read (textWeightsOf).
    }
  }
  return { maxBytes: LIMITS.textWeightBytes + LIMITS.onnxOverheadBytes, maxBytesAdvice: 'no CLIP tower this app runs is that large' };
}

/** Throws a ModelFileError naming the file when the bytes are not a whole ONNX file. */
export function checkOnnxBytes(bytes: Uint8Array, file: string, expectedSize?: number): void {
  if (expectedSize !== undefined && bytes.byteLength !== expectedSize) {
    throw new ModelFileError(file, `has ${bytes.byteLength} bytes but ${expectedSize} were expected (a transfer cut short?); download or copy it again`);
  }
  const problem = onnxFramingProblem(bytes);
  if (problem) throw new ModelFileError(file, `${problem}; download or copy the file again`);
}

/** The engine's text weights from a text tower's bytes (fp16 upcast to fp32); a failure names the file. */
export function textWeightsOf(text: TowerBytes, desc: ModelDescription): TextWeights {
  try {
    return loadTextWeights(text.bytes, desc.config, text.file);
  } catch (e) {
    if (e instanceof ModelFileError) throw e;
    if (e instanceof TooLargeError) throw new TooLargeError(e.what.startsWith(text.file) ? e.what : `${text.file}: ${e.what}`, e.actual, e.limit, 'use the files as published');
    const msg = (e as Error).message;
    const detail = msg.startsWith(text.file) ? msg.slice(text.file.length + 1) : `cannot be read as a CLIP text tower (${msg})`;
    throw new ModelFileError(text.file, `${detail}\n(use the file as published; if it is, this engine does not understand its layout)`);
  }
}

/** Everything read from one model folder; ONNX files still as bytes. */
export interface ModelFolder {
  /** The source's name (the folder under public/models/ for the bundled source). */
  folder: string;
  manifest: ModelManifest;
  config: Record<string, unknown>;
  preprocessorConfig: unknown;
  tokenizer: ClipTokenizer;
  description: ModelDescription;
  textFile: TowerFile;
  visionFile: TowerFile;
  textModel: Uint8Array;
  visionModel: Uint8Array;
}

export interface LoadProgress {
  loaded: number;
  /** 0 when the sizes are unknown. */
  total: number;
  file: string;
}

export interface LoadModelOptions {
  logitScale?: number;
  text?: TowerDtype;
  vision?: TowerDtype;
  onProgress?: (p: LoadProgress) => void;
  signal?: AbortSignal;
}

/** describeModel, then both towers (the chosen dtypes, or the first present), reporting bytes as they come. */
export async function loadModel(source: ModelSource, options: LoadModelOptions = {}): Promise<ModelFolder> {
  let loaded = 0;
  let total = 0;
  const track = (file: string) => (delta: number) => {
    loaded += delta;
    options.onProgress?.({ loaded, total, file });
  };
  const description = await describeModel(source, {
    signal: options.signal,
    logitScale: options.logitScale,
    onBytes: track(source.describe(MODEL_FILES.config)),
  });
  const textFile = pickTowerFile(description, 'text', options.text);
  const visionFile = pickTowerFile(description, 'vision', options.vision);
  total = textFile.size !== undefined && visionFile.size !== undefined ? loaded + textFile.size + visionFile.size : 0;
  const [text, vision] = await Promise.all([
    readTower(source, description, 'text', textFile.dtype, { signal: options.signal, onBytes: track(textFile.file) }),
    readTower(source, description, 'vision', visionFile.dtype, { signal: options.signal, onBytes: track(visionFile.file) }),
  ]);
  return {
    folder: description.folder,
    manifest: description.manifest,
    config: description.config,
    preprocessorConfig: description.preprocessorConfig,
    tokenizer: description.tokenizer,
    description,
    textFile,
    visionFile,
    textModel: text.bytes,
    visionModel: vision.bytes,
  };
}

export interface LoadOptions extends LoadModelOptions {
  /** The app's base URL (import.meta.env.BASE_URL); files are at `${baseUrl}models/<folder>/…`. */
  baseUrl: string;
}

/** A bundled folder under public/models/ (the index row gives its file sizes). */
export function loadModelFolder(entry: ModelIndexEntry, options: LoadOptions): Promise<ModelFolder> {
  return loadModel(bundledSource(options.baseUrl, entry.folder, entry.sizes), options);
}
