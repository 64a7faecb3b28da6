/**
 * One CoOp step from a JSON case, for comparing with PyTorch by hand:
 *
 *   npm run -s coop:grad -- --model public/models/toy-clip --case tests/fixtures/coop-unified-end.case.json [--cpu | --wasm] [--naive]
 *
 * The case holds {classnames, n_ctx, csc, position, ctx (flat), image_features (rows, normalized),
 * labels[, logit_scale]}; the scale defaults to the model's (manifest.json's, or 100 for a folder as published).
 * The folder is read by the app's loader (src/models/load.ts): a manifest-free transformers.js folder and an
 * fp16-only text tower work too. Prints {"loss", "grad", "logits"} from the WGSL engine (Node Dawn), with --wasm
 * from the CPU engine's WASM SIMD kernels, or with --cpu from the JavaScript reference (the CPU twins).
 *
 * A case may name a method (src/coop/prompt-methods.ts); the printed gradient is then the one the SGD step uses:
 *   "method": "kgcoop", "kg_weight" (default 8), "kg_text_features" [K][E] normalized → loss = CE + w(1 − mean cos)
 *   "method": "prograd", "zs_logits" [N][K], "prograd_T" (default 1), "prograd_lambda" (default 1) → loss = CE,
 *     grad = the CE gradient after ProGrad's projection; also prints "kl" and "cos" (of the CE and KL gradients).
 * The successors carry their parameters beside the context and print their gradients under the same keys
 * (src/cli/successor-case.ts): "cocoop" ("meta_net" → "grad_meta_net"), "deep" ("deep_ctx" → "grad_deep_ctx"),
 * "tcp" ("tcp_mlp", "hand_written" → "grad_tcp_mlp"), "dept-coop" / "dept-kgcoop" ("dept" → "grad_dept"); they run
 * the engines' tower step (src/engine/tower.ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { coopStepCpu } from '../src/engine/cpu-text-encoder';
import { referenceKernels } from '../src/engine/ops/kernels';
import { WasmKernels } from '../src/engine/wasm/kernels';
import { promptLayout } from '../src/engine/prompt';
import { KGCOOP_DEFAULT_WEIGHT } from '../src/coop/kgcoop';
import { PROGRAD_DEFAULTS } from '../src/coop/prograd';
import { type EngineStepFn, type MethodConfig } from '../src/coop/prompt-methods';
import { isSuccessor, promptLearner, type LearnerConfig, type Successor } from '../src/coop/prompt-learner';
import { successorCase, type SuccessorCase } from '../src/cli/successor-case';
import { makeCpuTowerStep } from '../src/engine/cpu-tower';
import { makeGpuTowerStep } from '../src/engine/gpu-tower';
import type { TowerStepFn } from '../src/engine/tower';
import { loadModelFromDir } from '../src/models/node';
import type { CoopCase } from '../src/cli/trace';

interface MethodCase extends CoopCase {
  method?: 'coop' | 'kgcoop' | 'prograd' | Successor;
  kg_weight?: number;
  kg_text_features?: number[][];
  zs_logits?: number[][];
  prograd_T?: number;
  prograd_lambda?: number;
}

function methodConfig(c: MethodCase, K: number, E: number, N: number, logitScale: number): MethodConfig {
  const method = c.method ?? 'coop';
  if (method === 'coop') return { method };
  if (method === 'kgcoop') {
    const f = c.kg_text_features ?? fail("a 'kgcoop' case needs 'kg_text_features' ([K][E], normalized)");
    if (f.length !== K || f.some((r) => r.length !== E)) fail(`kg_text_features must be ${K} rows of ${E}`);
    return { method, nClasses: K, dim: E, kgcoop: { weight: c.kg_weight ?? KGCOOP_DEFAULT_WEIGHT, clipFeatures: Float32Array.from(f.flat()) } };
  }
  if (method === 'prograd') {
    const z = c.zs_logits ?? fail("a 'prograd' case needs 'zs_logits' ([N][K], zero-shot CLIP's logits of the images)");
    if (z.length !== N || z.some((r) => r.length !== K)) fail(`zs_logits must be ${N} rows of ${K}`);
    const zs = Float32Array.from(z.flat());
    return {
      method,
      nClasses: K,
      dim: E,
      logitScale,
      prograd: { T: c.prograd_T ?? PROGRAD_DEFAULTS.T, lambda: c.prograd_lambda ?? PROGRAD_DEFAULTS.lambda, zeroShotLogits: () => zs },
    };
  }
  fail(`unknown method '${method as string}' (coop, kgcoop or prograd)`);
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function fail(msg: string): never {
  process.stderr.write(`coop:grad: ${msg}\n`);
  process.exit(2);
}

const SWIFTSHADER_DIR = '/usr/lib/chromium';

async function main(): Promise<void> {
  const modelDir = arg('--model') ?? fail('--model DIR is required');
  const casePath = arg('--case') ?? fail('--case FILE.json is required');
  const useWasm = process.argv.includes('--wasm');
  const useCpu = process.argv.includes('--cpu') || useWasm;
  const mode = process.argv.includes('--naive') ? 'naive' : 'fast';

  // Dawn finds a Vulkan driver only through these; re-run with them when Chromium's SwiftShader is here.
  if (!useCpu && !process.env.VK_ICD_FILENAMES && existsSync(path.join(SWIFTSHADER_DIR, 'vk_swiftshader_icd.json'))) {
    const r = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
      stdio: 'inherit',
      env: {
        ...process.env,
        LD_LIBRARY_PATH: [SWIFTSHADER_DIR, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
        VK_ICD_FILENAMES: path.join(SWIFTSHADER_DIR, 'vk_swiftshader_icd.json'),
      },
    });
    process.exit(r.status ?? 1);
  }

  const c = JSON.parse(readFileSync(casePath, 'utf8')) as MethodCase;
  for (const k of ['classnames', 'n_ctx', 'csc', 'position', 'ctx', 'image_features', 'labels'] as const) {
    if (c[k] === undefined) fail(`case ${casePath} has no '${k}'`);
  }
  const textDtype = arg('--text-dtype');
  if (textDtype !== undefined && textDtype !== 'fp32' && textDtype !== 'fp16') fail(`--text-dtype must be fp32 or fp16 (got ${textDtype})`);
  const model = await loadModelFromDir(modelDir, { text: textDtype });
  const logitScale = c.logit_scale ?? model.description.logitScale;
  const weights = model.weights;
  const tok = model.description.tokenizer;

  // As CoOp's PromptLearner: "X X … X name." with '_' read as a space.
  const names = c.classnames.map((n) => n.replace(/_/g, ' '));
  const prefix = Array(c.n_ctx).fill('X').join(' ');
  const tokenIds = names.map((n) => tok.tokenize(`${prefix} ${n}.`));
  const nameLens = names.map((n) => tok.encode(n).length);
  const ctx = Float32Array.from(c.ctx);
  const imageFeatures = Float32Array.from(c.image_features.flat());
  const K = names.length;
  const N = c.labels.length;

  const E = weights.config.E;
  const { D, L } = weights.config;
  let succ: SuccessorCase | undefined;
  try {
    succ = c.method && isSuccessor(c.method) ? successorCase(c.method, c as unknown as Record<string, unknown>, { K, E, D, L, logitScale }) : undefined;
  } catch (e) {
    fail((e as Error).message);
  }
  const cfg: LearnerConfig = succ ? succ.cfg : methodConfig(c, K, E, N, logitScale);
  const context = { data: ctx, nCtx: c.n_ctx, dim: D, cscClasses: c.csc ? K : 0, ...(succ ? { extras: succ.extras } : {}) };
  const prompts = { tokenIds, nameLens, position: c.position };
  let step: EngineStepFn;
  let tower: TowerStepFn;
  let done = () => {};
  if (useCpu) {
    const layout = promptLayout({ tokenIds, nameLens, nCtx: c.n_ctx, csc: c.csc, position: c.position }, weights.config.V);
    // --wasm: the CPU engine's WASM SIMD kernels (what trains on the CPU); --cpu: the JavaScript reference twins.
    const kern = useWasm ? await WasmKernels.create({ threads: 1 }) : null;
    kern?.adoptWeights(weights);
    step = (cv, imageFeatures, labels, textGrad, secondGrad) => {
      const run = () => {
        const r = coopStepCpu(weights, { layout, ctx: cv.data, imageFeatures, labels, logitScale, textGrad, secondGrad }, mode, kern ?? referenceKernels);
        return { loss: r.loss, logits: Float32Array.from(r.logits), gradCtx: Float32Array.from(r.gradCtx), textFeatures: Float32Array.from(r.textFeatures), ...(r.gradCtx2 ? { gradCtx2: Float32Array.from(r.gradCtx2) } : {}) };
      };
      return kern ? kern.run(run) : run();
    };
    tower = makeCpuTowerStep(weights, prompts, kern ?? referenceKernels, kern ? (f) => kern.run(f) : undefined);
    done = () => kern?.destroy();
  } else {
    const { dawnGpu } = await import('../src/engine/gpu/dawn-node');
    const { requestEngineDevice } = await import('../src/engine/gpu/device');
    const { createTextEngine } = await import('../src/engine/text-engine');
    let device: GPUDevice;
    try {
      device = await requestEngineDevice(await dawnGpu());
    } catch (e) {
      fail(`no WebGPU device (${(e as Error).message}); run with --cpu for the CPU twin`);
    }
    const engine = createTextEngine(device, weights, { mode });
    step = (cv, imageFeatures, labels, textGrad, secondGrad) => engine.step({ ctx: cv.data, tokenIds, nameLens, csc: c.csc, position: c.position, imageFeatures, labels, logitScale, textGrad, secondGrad });
    tower = makeGpuTowerStep(engine, prompts);
    done = () => {
      engine.destroy();
      device.destroy();
    };
  }
  const learner = promptLearner(cfg, { step, tower, textFeatures: () => Promise.reject(new Error('coop:grad scores nothing')) });
  const r = await learner.lossAndGrad(context, imageFeatures, Int32Array.from(c.labels));
  done();
  const { loss, gradCtx: grad, logits } = r;
  const extra = cfg.method === 'prograd' ? { kl: r.terms?.kl, cos: r.terms?.cos } : succ ? { ...(r.terms ?? {}), ...succ.printGrads(r.gradExtras ?? []) } : {};
  const rows = Array.from({ length: N }, (_, n) => Array.from(logits).slice(n * K, (n + 1) * K));
  // Exit only once the output is flushed: to a pipe a large write (TCP's MLP gradient) is asynchronous.
  process.stdout.write(JSON.stringify({ loss, grad: Array.from(grad), logits: rows, ...extra }) + '\n', () => process.exit(0));
}

main().catch((e) => fail((e as Error).message));
