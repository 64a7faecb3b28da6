import type { ModelIndex } from './types';

/** The model list the Vite plugin serves in dev and writes into the build. */
export async function fetchModelIndex(baseUrl: string): Promise<ModelIndex> {
  const response = await fetch(`${baseUrl}models/index.json`);
  if (!response.ok) throw new Error(`models/index.json could not be loaded (HTTP ${response.status})`);
  const index = (await response.json()) as ModelIndex;
  if (!Array.isArray(index?.models)) throw new Error('models/index.json has no "models" list');
  return index;
}
