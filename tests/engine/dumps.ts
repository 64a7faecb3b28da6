/** The six CoOp reference dumps and the toy-clip weights, as the engine tests use them. */
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { nameLensFromIds, type ClassTokenPosition, type PromptSpec } from '../../src/engine/prompt';
import { loadTextWeights, type TextWeights } from '../../src/engine/model/text-weights';
import { loadFixture, readArrayBuffer, TOY_CLIP, type Fixture } from '../helpers/fixture';

export const DUMPS = (['unified', 'csc'] as const).flatMap((c) =>
  (['end', 'middle', 'front'] as const).map((p) => `coop-${c}-${p}.bin`),
);

let cached: TextWeights | undefined;
export function toyClipWeights(): TextWeights {
  cached ??= loadTextWeights(
    readArrayBuffer(path.join(TOY_CLIP, 'onnx', 'text_model.onnx')),
    JSON.parse(readFileSync(path.join(TOY_CLIP, 'config.json'), 'utf8')),
  );
  return cached;
}

export function toyClipManifest(): { logit_scale: number } {
  return JSON.parse(readFileSync(path.join(TOY_CLIP, 'manifest.json'), 'utf8'));
}

export interface Dump {
  fx: Fixture;
  spec: PromptSpec;
  ctx: Float32Array;
  imageFeatures: Float32Array;
  labels: Int32Array;
  logitScale: number;
}

export function loadDump(name: string): Dump {
  const fx = loadFixture(name);
  const [K, T] = fx.shape('token_ids');
  const ids = fx.i32('token_ids');
  const tokenIds = Array.from({ length: K }, (_, k) => ids.subarray(k * T, (k + 1) * T));
  const nCtx = fx.meta.n_ctx as number;
  return {
    fx,
    spec: {
      tokenIds,
      nameLens: nameLensFromIds(tokenIds, nCtx),
      nCtx,
      csc: fx.meta.csc as boolean,
      position: fx.meta.position as ClassTokenPosition,
    },
    ctx: fx.f32('ctx'),
    imageFeatures: fx.f32('image_features'),
    labels: fx.i32('labels'),
    logitScale: fx.meta.logit_scale as number,
  };
}
