import { tokenizerFromHfJson, type ClipTokenizer, type HfTokenizerJson } from '../tokenizer';
import { ModelFileError, parseJsonFile } from './errors';
import { fetchBytes, fetchText } from './fetch-bytes';
import { checkManifestAgainstConfigs, validateManifest } from './validate';
import { displayPath, MODEL_FILES, type ModelFileKey, type ModelIndexEntry, type ModelManifest } from './types';

/** Everything read from one model folder, checked for consistency; ONNX files still as bytes. */
export interface ModelFolder {
  folder: string;
  manifest: ModelManifest;
  config: Record<string, unknown>;
  preprocessorConfig: unknown;
  tokenizer: ClipTokenizer;
  textModel: Uint8Array;
  visionModel: Uint8Array;
}

export interface LoadProgress {
  loaded: number;
  /** 0 when the index gave no sizes. */
  total: number;
  file: string;
}

export interface LoadOptions {
  /** The app's base URL (import.meta.env.BASE_URL); files are at `${baseUrl}models/<folder>/…`. */
  baseUrl: string;
  onProgress?: (p: LoadProgress) => void;
  signal?: AbortSignal;
}

function buildTokenizer(json: unknown, config: Record<string, unknown>, folder: string): ClipTokenizer {
  const file = displayPath(folder, MODEL_FILES.tokenizer);
  let tokenizer: ClipTokenizer;
  try {
    tokenizer = tokenizerFromHfJson(json as HfTokenizerJson);
  } catch (e) {
    throw new ModelFileError(file, `cannot be read as a CLIP tokenizer: ${(e as Error).message}`);
  }
  // The text tower pools at argmax(token ids), which is only the EOS position if EOS has the largest id.
  if (tokenizer.eosId !== tokenizer.vocabSize - 1) {
    throw new ModelFileError(file, `has EOS id ${tokenizer.eosId}, not the largest id ${tokenizer.vocabSize - 1}`);
  }
  const textConfig = config.text_config as Record<string, unknown> | undefined;
  const eos = textConfig?.eos_token_id;
  // Hugging Face's CLIP configs long carried eos_token_id 2 as a placeholder, so only a plausible id is compared.
  if (typeof eos === 'number' && eos > 2 && eos !== tokenizer.eosId) {
    throw new ModelFileError(file, `has EOS id ${tokenizer.eosId} but config.json text_config.eos_token_id is ${eos}`);
  }
  return tokenizer;
}

/**
 * Loads a model folder: the small JSON files first, so a bad manifest or config is refused before
 * megabytes of ONNX are downloaded; then both ONNX files, reporting bytes as they stream in.
 */
export async function loadModelFolder(entry: ModelIndexEntry, options: LoadOptions): Promise<ModelFolder> {
  const { folder } = entry;
  const root = `${options.baseUrl}models/${encodeURIComponent(folder)}/`;
  const total = Object.values(MODEL_FILES).reduce((sum, f) => sum + (entry.sizes[f] ?? 0), 0);
  let loaded = 0;
  const track = (key: ModelFileKey) => (delta: number) => {
    loaded += delta;
    options.onProgress?.({ loaded, total, file: displayPath(folder, MODEL_FILES[key]) });
  };
  const url = (key: ModelFileKey) => root + MODEL_FILES[key];
  const file = (key: ModelFileKey) => displayPath(folder, MODEL_FILES[key]);
  const json = async (key: ModelFileKey) =>
    parseJsonFile(await fetchText(url(key), file(key), track(key), options.signal), file(key));

  const [manifestJson, config, preprocessorConfig, tokenizerJson] = await Promise.all([
    json('manifest'),
    json('config'),
    json('preprocessor'),
    json('tokenizer'),
  ]);
  const manifest = validateManifest(manifestJson, folder);
  checkManifestAgainstConfigs(manifest, config, preprocessorConfig, folder);
  const configObject = config as Record<string, unknown>;
  const tokenizer = buildTokenizer(tokenizerJson, configObject, folder);

  const [textModel, visionModel] = await Promise.all([
    fetchBytes(url('textModel'), file('textModel'), track('textModel'), options.signal),
    fetchBytes(url('visionModel'), file('visionModel'), track('visionModel'), options.signal),
  ]);
  return { folder, manifest, config: configObject, preprocessorConfig, tokenizer, textModel, visionModel };
}
