/**
 * A model folder for the command line, read by the one loader (src/models/node.ts loadModelFromDir: our folders
 * with manifest.json and folders as published, fp32 or fp16 text towers), plus the two fingerprints the command
 * line keys things by.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { TextWeights } from '../engine/model/text-weights';
import { imageModelFingerprint } from '../models/fingerprint';
import { loadModelFromDir } from '../models/node';
import type { ModelManifest } from '../models/types';
import type { PreprocessConfig } from '../preprocess';
import type { ClipTokenizer } from '../tokenizer';

export interface CliModel {
  dir: string;
  /** id, embed_dim and logit_scale as the loader resolved them (manifest.json, or derived for a published folder). */
  manifest: ModelManifest;
  config: Record<string, unknown>;
  preprocess: PreprocessConfig;
  tokenizer: ClipTokenizer;
  weights: TextWeights;
  visionModel: Uint8Array;
  visionPath: string;
  /** sha256 of the text tower file: what prompt files are checked against. */
  textFingerprint: string;
  /** The vision tower file + the preprocessing (src/models/fingerprint.ts): what cached image features and adapter files are keyed by. */
  visionFingerprint: string;
}

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

export async function loadModelDir(dir: string): Promise<CliModel> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`--model ${dir} is not a folder`);
  const m = await loadModelFromDir(dir);
  const d = m.description;
  const visionModel = new Uint8Array(readFileSync(m.visionPath));
  return {
    dir,
    manifest: { ...d.manifest, id: d.id, embed_dim: d.embedDim, logit_scale: d.logitScale },
    config: d.config,
    preprocess: d.preprocess,
    tokenizer: d.tokenizer,
    weights: m.weights,
    visionModel,
    visionPath: m.visionPath,
    textFingerprint: sha256(m.text.bytes),
    visionFingerprint: await imageModelFingerprint(visionModel, d.preprocess),
  };
}
