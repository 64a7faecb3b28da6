import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ModelFileError, parseJsonFile } from './errors.ts';
import { displayPath, KNOWN_MODEL_FILES, MODEL_FILES, type ModelIndex, type ModelIndexEntry } from './types.ts';
import { validateManifest } from './validate.ts';

/**
 * Lists the model folders under `modelsDir` (public/models), with the sizes of the files the loader may read
 * (so the bundled source knows which dtypes exist without a request). A folder as published needs no
 * manifest.json; where one is present it is checked here, and a broken one still yields an entry with the
 * error, so the picker can say what is wrong. Everything else is checked when the model is loaded, where a
 * failure can be shown beside the loading bar.
 */
export function scanModelsDir(modelsDir: string): ModelIndex {
  if (!existsSync(modelsDir)) return { models: [] };
  const folders = readdirSync(modelsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
    .map((d) => d.name)
    .sort();
  return { models: folders.map((folder) => scanFolder(modelsDir, folder)) };
}

function scanFolder(modelsDir: string, folder: string): ModelIndexEntry {
  const sizes: Record<string, number> = {};
  for (const file of KNOWN_MODEL_FILES) {
    const path = join(modelsDir, folder, file);
    if (existsSync(path)) sizes[file] = statSync(path).size;
  }
  if (!(MODEL_FILES.config in sizes)) {
    return {
      folder,
      name: folder,
      sizes,
      error: `${displayPath(folder, MODEL_FILES.config)} is missing; a model folder holds the files as transformers.js publishes them (config.json, tokenizer.json, onnx/…)`,
    };
  }
  if (!(MODEL_FILES.manifest in sizes)) return { folder, name: folder, sizes };
  try {
    const json = parseJsonFile(readFileSync(join(modelsDir, folder, MODEL_FILES.manifest), 'utf8'), displayPath(folder, MODEL_FILES.manifest));
    const manifest = validateManifest(json, folder);
    return { folder, name: manifest.name, sizes };
  } catch (e) {
    if (!(e instanceof ModelFileError)) throw e;
    return { folder, name: folder, sizes, error: e.message };
  }
}
