/**
 * The text engine a command trains with: the WGSL engine through Dawn (the `webgpu` package) or the CPU twin, the
 * same two engines the app's worker uses (src/worker). `auto` times one step of each on the run's own prompts and
 * keeps the faster, so a software adapter (SwiftShader) or a weak GPU never slows a run down by being "a GPU".
 */
import type { TextWeights } from '../engine/model/text-weights';
import type { PromptSpec } from '../engine/prompt';
import { CpuTextEngine } from '../worker/cpu-text-engine';
import type { TextEngineLike } from '../worker/text-engine';

export type EngineChoice = 'auto' | 'wgsl' | 'cpu';

export interface EngineProbe {
  spec: PromptSpec;
  ctx: Float32Array;
  features: Float32Array;
  labels: Int32Array;
}

async function makeGpu(weights: TextWeights, logitScale: number): Promise<{ engine: TextEngineLike } | { reason: string }> {
  const { dawnGpu } = await import('../engine/gpu/dawn-node');
  const { GpuTextEngine } = await import('../worker/gpu-text-engine');
  let gpu: GPU;
  try {
    gpu = await dawnGpu();
  } catch (e) {
    return { reason: `Dawn (the webgpu package) could not start: ${(e as Error).message}` };
  }
  const made = await GpuTextEngine.create(gpu, weights, logitScale, (m) => process.stderr.write(m + '\n'));
  return 'engine' in made ? { engine: made.engine } : { reason: made.reason };
}

async function timeStep(engine: TextEngineLike, p: EngineProbe): Promise<number> {
  engine.setPrompts(p.spec);
  const t = performance.now();
  await engine.step(p.ctx, p.features, p.labels);
  return performance.now() - t;
}

const isSoftware = (detail: string) => /swiftshader|llvmpipe|lavapipe|software|microsoft basic/i.test(detail);

export async function chooseTextEngine(
  weights: TextWeights,
  logitScale: number,
  choice: EngineChoice,
  probe: EngineProbe,
  log: (s: string) => void,
): Promise<TextEngineLike> {
  const cpu = () => {
    const e = new CpuTextEngine({ weights, logitScale });
    e.detail = 'CPU twin (JavaScript)';
    return e;
  };
  if (choice === 'cpu') {
    log('text engine: CPU twin (JavaScript), as asked with --engine cpu');
    return cpu();
  }
  const made = await makeGpu(weights, logitScale);
  if ('reason' in made) {
    if (choice === 'wgsl') throw new Error(`--engine wgsl: ${made.reason}. Run with --engine cpu (or auto) to train on the CPU twin.`);
    log(`text engine: CPU twin (JavaScript); no usable WebGPU adapter: ${made.reason}`);
    return cpu();
  }
  const gpu = made.engine;
  log(`WebGPU adapter: ${gpu.detail}${isSoftware(gpu.detail) ? ' — a software adapter, not a real GPU' : ''}`);
  if (choice === 'wgsl') {
    log('text engine: WGSL on WebGPU, as asked with --engine wgsl');
    return gpu;
  }
  const c = cpu();
  const tCpu = await timeStep(c, probe);
  // The first GPU step includes pipeline compilation: time a second one unless the first already lost clearly.
  let tGpu = await timeStep(gpu, probe);
  if (tGpu < 5 * tCpu) tGpu = await timeStep(gpu, probe);
  const pick = tGpu < tCpu ? gpu : c;
  log(`--engine auto: one step takes ${tCpu.toFixed(0)} ms on the CPU twin, ${tGpu.toFixed(0)} ms on WGSL; training on ${pick === gpu ? 'WGSL (WebGPU)' : 'the CPU twin'}`);
  (pick === gpu ? c : gpu).dispose();
  return pick;
}
