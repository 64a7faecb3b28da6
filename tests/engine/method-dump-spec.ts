/** The KgCoOp / ProGrad reference dumps (tools/toy-clip/method_dumps.py) as method configs; pure, Node and browser. */
import type { ContextVectors } from '../../src/coop/context-init';
import type { EngineStepFn, MethodConfig } from '../../src/coop/prompt-methods';
import type { Fixture } from '../helpers/fixture-format';
import { dumpFromFixture, type Dump } from './dump-spec';

export const METHOD_DUMPS = (['kgcoop', 'prograd'] as const).flatMap((m) =>
  (['unified', 'csc'] as const).flatMap((c) => (['end', 'middle', 'front'] as const).map((p) => `methods/${m}-${c}-${p}.bin`)),
);

export interface MethodDump extends Dump {
  cfg: MethodConfig;
  context: ContextVectors;
}

/** ProGrad's teacher enters the dumps as the batch's zero-shot logits [N, K], as coop:grad cases give it. */
export function methodDumpFromFixture(fx: Fixture): MethodDump {
  const d = dumpFromFixture(fx);
  const [K] = fx.shape('token_ids');
  const E = d.imageFeatures.length / d.labels.length;
  const D = d.ctx.length / (d.spec.nCtx * (d.spec.csc ? K : 1));
  const context: ContextVectors = { data: d.ctx, nCtx: d.spec.nCtx, dim: D, cscClasses: d.spec.csc ? K : 0 };
  const method = fx.meta.method as 'kgcoop' | 'prograd';
  const cfg: MethodConfig =
    method === 'kgcoop'
      ? { method, nClasses: K, dim: E, kgcoop: { weight: fx.meta.kg_weight as number, clipFeatures: fx.f32('kg_text_features') } }
      : {
          method,
          nClasses: K,
          dim: E,
          logitScale: d.logitScale,
          prograd: {
            T: fx.meta.prograd_T as number,
            lambda: fx.meta.prograd_lambda as number,
            zeroShotLogits: () => fx.f32('zs_logits'),
          },
        };
  return { ...d, cfg, context };
}

export type { EngineStepFn };
