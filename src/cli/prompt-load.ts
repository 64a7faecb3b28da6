/** Reads a learned prompt file for a model with the app's own parser; a file for another model is refused. */
import { existsSync, readFileSync } from 'node:fs';
import { parsePromptFile, type LearnedPrompt } from '../coop/prompt-file';
import type { Loaded } from './common';

export function readPrompt(file: string, l: Loaded): LearnedPrompt {
  if (!existsSync(file)) throw new Error(`--prompt ${file} does not exist`);
  const r = parsePromptFile(readFileSync(file, 'utf8'), { id: l.model.manifest.id, fingerprint: l.model.textFingerprint, width: l.weights.config.D });
  if (!r.ok) throw new Error(`--prompt ${file}: ${r.error}`);
  return r.prompt;
}
