/** Reads a learned prompt file for a model with the app's own parser; a file for another model is refused. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { parsePromptFile, promptFileSizeProblem, type LearnedPrompt } from '../coop/prompt-file';
import type { Loaded } from './common';

export function readPrompt(file: string, l: Loaded): LearnedPrompt {
  if (!existsSync(file)) throw new Error(`--prompt ${file} does not exist`);
  const st = statSync(file);
  if (!st.isFile()) throw new Error(`--prompt ${file} is not a regular file`);
  const tooLarge = promptFileSizeProblem(st.size, `--prompt ${file}`);
  if (tooLarge) throw new Error(tooLarge);
  const r = parsePromptFile(readFileSync(file, 'utf8'), { id: l.model.manifest.id, fingerprint: l.model.textFingerprint, width: l.weights.config.D });
  if (!r.ok) throw new Error(`--prompt ${file}: ${r.error}`);
  return r.prompt;
}
