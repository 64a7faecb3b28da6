/** Our own manifest.json beside the transformers.js files of a model folder. */
export interface ModelManifest {
  id: string;
  name: string;
  image_size: number;
  embed_dim: number;
  /** Already exponentiated: logits are logit_scale · cos(image, text). */
  logit_scale: number;
  text_width?: number;
  context_length?: number;
  source?: string;
  license?: string;
  [extra: string]: unknown;
}

/** One row of models/index.json, written by the model list plugin. */
export interface ModelIndexEntry {
  /** Folder name under public/models/; the URL path and the key. */
  folder: string;
  /** Manifest's name, or the folder when the manifest is unreadable. */
  name: string;
  /** Byte sizes of the model files found on disk, by path relative to the folder (for progress totals). */
  sizes: Record<string, number>;
  /** Set when the folder cannot be offered: says which file is wrong and how. */
  error?: string;
}

export interface ModelIndex {
  models: ModelIndexEntry[];
}

/** The files a model folder must hold, relative to the folder. */
export const MODEL_FILES = {
  manifest: 'manifest.json',
  config: 'config.json',
  preprocessor: 'preprocessor_config.json',
  tokenizer: 'tokenizer.json',
  textModel: 'onnx/text_model.onnx',
  visionModel: 'onnx/vision_model.onnx',
} as const;

export type ModelFileKey = keyof typeof MODEL_FILES;

/** transformers.js's dtype names for a tower file, each a suffix: `onnx/<tower>_model<suffix>.onnx`. */
export const DTYPE_SUFFIX = { fp32: '', fp16: '_fp16', quantized: '_quantized' } as const;
export type TowerDtype = keyof typeof DTYPE_SUFFIX;
export type Tower = 'text' | 'vision';

/** Where a tower's file is in the folder for a dtype, e.g. `onnx/text_model_fp16.onnx`. */
export function towerPath(tower: Tower, dtype: TowerDtype): string {
  return `onnx/${tower}_model${DTYPE_SUFFIX[dtype]}.onnx`;
}

/** Every file the loader may read from a folder: the small ones and each tower in each dtype. */
export const KNOWN_MODEL_FILES: readonly string[] = [
  MODEL_FILES.manifest,
  MODEL_FILES.config,
  MODEL_FILES.preprocessor,
  MODEL_FILES.tokenizer,
  ...(['text', 'vision'] as const).flatMap((t) => (Object.keys(DTYPE_SUFFIX) as TowerDtype[]).map((d) => towerPath(t, d))),
];

/** How a model file is named in messages: where the user put it, not the URL it is served from. */
export function displayPath(folder: string, file: string): string {
  return `public/models/${folder}/${file}`;
}
