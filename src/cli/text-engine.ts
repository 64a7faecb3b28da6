/**
 * The text engine a command trains with: the WGSL engine through Dawn (the `webgpu` package) or the CPU twin, chosen
 * by the one rule the app's worker uses (src/worker/choose-engine.ts, src/engine/choose-path.ts): `auto` times a step
 * on each and keeps the faster (a software adapter such as SwiftShader gives the CPU twin), `wgsl` / `cpu` force one.
 * The adapter's name and the reason are printed.
 */
import type { TextWeights } from '../engine/model/text-weights';
import { chooseTextEngine as chooseByMeasurement } from '../worker/choose-engine';
import type { TextEngineLike } from '../worker/text-engine';
import { nodeMatmulPool } from '../engine/ops/matmul/cpu-pool';
import { availableParallelism } from 'node:os';

export type EngineChoice = 'auto' | 'wgsl' | 'cpu';

/** `--threads`' default: every core (the CPU twin's step on ViT-B/32 ran 1.39× faster on 2 threads than on 1). */
export const defaultThreads = () => Math.max(1, Math.min(16, availableParallelism()));

export async function chooseTextEngine(weights: TextWeights, logitScale: number, choice: EngineChoice, log: (s: string) => void, threads = defaultThreads()): Promise<TextEngineLike> {
  const forced = choice === 'cpu' ? { path: 'cpu' as const, by: '--engine cpu' } : choice === 'wgsl' ? { path: 'gpu' as const, by: '--engine wgsl' } : undefined;
  let gpu: GPU | undefined;
  if (choice !== 'cpu') {
    try {
      const { dawnGpu } = await import('../engine/gpu/dawn-node');
      gpu = await dawnGpu();
      const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
      const info = adapter?.info as (GPUAdapterInfo & { isFallbackAdapter?: boolean }) | undefined;
      const name = [info?.vendor, info?.architecture, info?.description].filter(Boolean).join(' ');
      const soft = info?.isFallbackAdapter || /swiftshader|llvmpipe|lavapipe|warp/i.test(name);
      log(adapter ? `WebGPU adapter (Dawn): ${name || 'unnamed'}${soft ? ' — a software adapter, not a real GPU' : ''}` : 'WebGPU (Dawn): no adapter');
    } catch (e) {
      if (choice === 'wgsl') throw new Error(`--engine wgsl: Dawn (the webgpu package) could not start: ${(e as Error).message}. Run with --engine cpu (or auto).`);
      log(`WebGPU (Dawn) could not start: ${(e as Error).message}`);
      gpu = undefined;
    }
  }
  // The CPU twin's matmuls on `threads` threads: this one and threads − 1 worker_threads (bitwise the same result).
  const cpuPool = () => (threads > 1 ? nodeMatmulPool(threads - 1) : null);
  const { engine, choice: picked } = await chooseByMeasurement({ weights, logitScale, gpu, forced, cpuPool, onLost: (m) => process.stderr.write(m + '\n') });
  log(`text engine: ${picked.reason}`);
  return engine;
}
