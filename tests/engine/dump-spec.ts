/** The six CoOp reference dumps as the engine tests use them; pure, shared by the Node and browser loaders. */
import { nameLensFromIds, type ClassTokenPosition, type PromptSpec } from '../../src/engine/prompt';
import type { Fixture } from '../helpers/fixture-format';

export const DUMPS = (['unified', 'csc'] as const).flatMap((c) =>
  (['end', 'middle', 'front'] as const).map((p) => `coop-${c}-${p}.bin`),
);

export interface Dump {
  fx: Fixture;
  spec: PromptSpec;
  ctx: Float32Array;
  imageFeatures: Float32Array;
  labels: Int32Array;
  logitScale: number;
}

export function dumpFromFixture(fx: Fixture): Dump {
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
