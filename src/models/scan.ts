import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ModelFileError, parseJsonFile } from './errors';
import { displayPath, MODEL_FILES, type ModelIndex, type ModelIndexEntry } from './types';
import { validateManifest } from './validate';

/**
 * Lists the model folders under `modelsDir` (public/models). Only manifest.json is read: the other
 * files are checked when a model is loaded, where a failure can be shown beside the loading bar.
 * A broken manifest still yields an entry, with the error, so the picker can say what is wrong.
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
  for (const file of Object.values(MODEL_FILES)) {
    const path = join(modelsDir, folder, file);
    if (existsSync(path)) sizes[file] = statSync(path).size;
  }
  const manifestPath = join(modelsDir, folder, MODEL_FILES.manifest);
  if (!existsSync(manifestPath)) {
    return { folder, name: folder, sizes, error: `${displayPath(folder, MODEL_FILES.manifest)} is missing` };
  }
  try {
    const json = parseJsonFile(readFileSync(manifestPath, 'utf8'), displayPath(folder, MODEL_FILES.manifest));
    const manifest = validateManifest(json, folder);
    return { folder, name: manifest.name, sizes };
  } catch (e) {
    if (!(e instanceof ModelFileError)) throw e;
    return { folder, name: folder, sizes, error: e.message };
  }
}
