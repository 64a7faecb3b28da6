import { ModelFileError, showValue } from './errors.ts';
import { displayPath, MODEL_FILES, type ModelManifest } from './types.ts';

type Json = Record<string, unknown>;

/** What to do about a bad manifest: it is optional, so deleting it is always a way out. */
const FIX = '; fix manifest.json, or delete it (a folder as published needs none)';

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPositiveInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;

/**
 * Checks manifest.json's own fields; the folder is only used to name the file in messages (`file`, where
 * given, names it instead: a hub URL or a path on disk).
 */
export function validateManifest(json: unknown, folder: string, file = displayPath(folder, MODEL_FILES.manifest)): ModelManifest {
  if (!isObject(json)) throw new ModelFileError(file, `must hold a JSON object${FIX}`);
  const need = (field: string, ok: (v: unknown) => boolean, what: string) => {
    if (!ok(json[field])) {
      const got = json[field] === undefined ? 'it is missing' : `got ${showValue(json[field])}`;
      throw new ModelFileError(file, `field "${field}" must be ${what} (${got})${FIX}`);
    }
  };
  need('id', (v) => typeof v === 'string' && v.length > 0, 'a non-empty string');
  need('name', (v) => typeof v === 'string' && v.length > 0, 'a non-empty string');
  need('image_size', isPositiveInt, 'a positive integer');
  need('embed_dim', isPositiveInt, 'a positive integer');
  // Stored already exponentiated (CLIP's logit_scale.exp()), so it must be a plain positive factor.
  need('logit_scale', (v) => typeof v === 'number' && Number.isFinite(v) && v > 0, 'a positive number');
  if (json.text_width !== undefined) need('text_width', isPositiveInt, 'a positive integer');
  if (json.context_length !== undefined) need('context_length', isPositiveInt, 'a positive integer');
  return json as ModelManifest;
}

/** Reads a dotted path out of a JSON object; undefined where any step is absent. */
function at(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const key of path.split('.')) {
    if (!isObject(cur)) return undefined;
    cur = cur[key];
  }
  return cur;
}

interface Pairing {
  manifestField: keyof ModelManifest;
  source: 'config' | 'preprocessor';
  path: string;
}

// Fields a config may leave out (Hugging Face fills defaults) are only compared where present.
const PAIRINGS: Pairing[] = [
  { manifestField: 'embed_dim', source: 'config', path: 'projection_dim' },
  { manifestField: 'embed_dim', source: 'config', path: 'text_config.projection_dim' },
  { manifestField: 'embed_dim', source: 'config', path: 'vision_config.projection_dim' },
  { manifestField: 'image_size', source: 'config', path: 'vision_config.image_size' },
  { manifestField: 'text_width', source: 'config', path: 'text_config.hidden_size' },
  { manifestField: 'context_length', source: 'config', path: 'text_config.max_position_embeddings' },
  { manifestField: 'image_size', source: 'preprocessor', path: 'crop_size.height' },
  { manifestField: 'image_size', source: 'preprocessor', path: 'crop_size.width' },
];

/**
 * Refuses a manifest whose dimensions disagree with config.json or preprocessor_config.json: the
 * app sizes its buffers from the manifest, so a disagreement would fail later and obscurely.
 */
export function checkManifestAgainstConfigs(
  manifest: ModelManifest,
  config: unknown,
  preprocessor: unknown,
  folder: string,
  manifestFile = displayPath(folder, MODEL_FILES.manifest),
): void {
  if (!isObject(config)) throw new ModelFileError(manifestFile.replace(/manifest\.json$/, MODEL_FILES.config), 'must hold a JSON object');
  const sources = { config, preprocessor };
  const names = { config: MODEL_FILES.config, preprocessor: MODEL_FILES.preprocessor };
  for (const { manifestField, source, path } of PAIRINGS) {
    const mine = manifest[manifestField];
    const theirs = at(sources[source], path);
    if (mine === undefined || theirs === undefined) continue;
    if (mine !== theirs) {
      throw new ModelFileError(
        manifestFile,
        `disagrees with ${names[source]}: manifest ${String(manifestField)} is ${showValue(mine)} ` +
          `but ${names[source]} ${path} is ${showValue(theirs)}${FIX}`,
      );
    }
  }
}
