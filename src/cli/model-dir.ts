/**
 * A model folder on disk for the command line, read through the ModelSource interface (src/models/source.ts).
 *
 * Until the one source-based loader lands (branch `loader`: `loadModelFromDir`), this reads a folder that carries
 * our manifest.json with the existing src/models checks (validateManifest, checkManifestAgainstConfigs) and the
 * tokenizer module; it is the Node directory source plus the few lines that assemble what the CLI needs, not a
 * second loader, and is replaced by the loader's Node helper when it arrives.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ModelFileError, parseJsonFile } from '../models/errors';
import type { ModelSource, ReadOptions } from '../models/source';
import { MODEL_FILES, type ModelManifest } from '../models/types';
import { checkManifestAgainstConfigs, validateManifest } from '../models/validate';
import { loadPreprocessorConfig, type PreprocessConfig } from '../preprocess';
import { tokenizerFromHfJson, type ClipTokenizer, type HfTokenizerJson } from '../tokenizer';

/** A directory in Node as a ModelSource. */
export class DirectorySource implements ModelSource {
  readonly kind = 'disk' as const;
  readonly name: string;
  constructor(readonly dir: string) {
    this.name = path.basename(path.resolve(dir));
  }
  describe(p: string): string {
    return path.join(this.dir, p);
  }
  async has(p: string): Promise<boolean> {
    return existsSync(path.join(this.dir, p));
  }
  async size(p: string): Promise<number | undefined> {
    const f = path.join(this.dir, p);
    return existsSync(f) ? statSync(f).size : undefined;
  }
  async read(p: string, options?: ReadOptions): Promise<Uint8Array> {
    const f = path.join(this.dir, p);
    if (!existsSync(f)) throw new ModelFileError(this.describe(p), 'is missing: is --model a model folder in the transformers.js layout?');
    const buf = readFileSync(f);
    options?.onBytes?.(buf.byteLength);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  }
}

export interface CliModel {
  dir: string;
  manifest: ModelManifest;
  config: Record<string, unknown>;
  preprocess: PreprocessConfig;
  tokenizer: ClipTokenizer;
  textModel: Uint8Array;
  visionModel: Uint8Array;
  /** sha256 of text_model.onnx: what prompt files are checked against. */
  textFingerprint: string;
  /** sha256 of vision_model.onnx + the preprocessing: what cached image features are keyed by. */
  visionFingerprint: string;
}

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

export async function loadModelDir(dir: string): Promise<CliModel> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`--model ${dir} is not a folder`);
  const src = new DirectorySource(dir);
  const json = async (p: string) => parseJsonFile(new TextDecoder().decode(await src.read(p)), src.describe(p));
  const folder = src.name;
  const [manifestJson, config, pre, tok] = await Promise.all([
    json(MODEL_FILES.manifest),
    json(MODEL_FILES.config),
    json(MODEL_FILES.preprocessor),
    json(MODEL_FILES.tokenizer),
  ]);
  const manifest = validateManifest(manifestJson, folder);
  checkManifestAgainstConfigs(manifest, config, pre, folder);
  const tokenizer = tokenizerFromHfJson(tok as HfTokenizerJson);
  const textModel = await src.read(MODEL_FILES.textModel);
  const visionModel = await src.read(MODEL_FILES.visionModel);
  const preprocess = loadPreprocessorConfig(pre);
  return {
    dir,
    manifest,
    config: config as Record<string, unknown>,
    preprocess,
    tokenizer,
    textModel,
    visionModel,
    textFingerprint: sha256(textModel),
    visionFingerprint: sha256(sha256(visionModel) + JSON.stringify(preprocess)),
  };
}
