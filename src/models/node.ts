/**
 * The loader for Node hosts (coop:grad, tokenize, bench, the command line): a model folder on disk, read
 * through the same describeModel/readTower as the app, plus the text tower's engine weights.
 */
import { join, resolve } from 'node:path';
import type { TextWeights } from '../engine/model/text-weights';
import { describeModel, pickTowerFile, readTower, textWeightsOf, type LoadProgress, type ModelDescription, type TowerBytes, type TowerDtype, type TowerFile } from './load';
import type { ModelSource } from './source';
import { nodeDirSource } from './sources/node-dir';

export interface NodeModel {
  source: ModelSource;
  description: ModelDescription;
  /** The text tower's file and bytes (ORT can run them for the load-time proof). */
  text: TowerBytes;
  /** The engine's text weights, fp32 (an fp16 file upcast). */
  weights: TextWeights;
  /** The image tower's file; `visionPath` is where onnxruntime-node can open it. Its bytes are not read. */
  vision: TowerFile;
  visionPath: string;
}

export interface NodeLoadOptions {
  /** A logit scale of the caller's own (e.g. a --logit-scale flag); wins over manifest and default. */
  logitScale?: number;
  text?: TowerDtype;
  vision?: TowerDtype;
  onProgress?: (p: LoadProgress) => void;
  signal?: AbortSignal;
}

/** Loads a model folder from disk: small files checked first, then the text tower read into engine weights. */
export async function loadModelFromDir(dir: string, options: NodeLoadOptions = {}): Promise<NodeModel> {
  const source = nodeDirSource(dir);
  const description = await describeModel(source, { signal: options.signal, logitScale: options.logitScale });
  let loaded = 0;
  const text = await readTower(source, description, 'text', options.text, {
    signal: options.signal,
    onBytes: (d) => {
      loaded += d;
      options.onProgress?.({ loaded, total: description.files.text[0]?.size ?? 0, file: source.describe('onnx') });
    },
  });
  const weights = textWeightsOf(text, description);
  const vision = pickTowerFile(description, 'vision', options.vision);
  return { source, description, text, weights, vision, visionPath: join(resolve(dir), ...vision.path.split('/')) };
}

/** The small files only (id, configs, tokenizer, which tower files exist), e.g. for `tokenize --model`. */
export function describeModelDir(dir: string): Promise<ModelDescription> {
  return describeModel(nodeDirSource(dir));
}
