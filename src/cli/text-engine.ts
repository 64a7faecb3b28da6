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
import { WasmKernels } from '../engine/wasm/kernels';

export type EngineChoice = 'auto' | 'wgsl' | 'cpu' | 'reference';

/** `--threads`' default: every core (the WASM engine's products split by column panels over them). */
export const defaultThreads = () => Math.max(1, Math.min(16, availableParallelism()));

export async function chooseTextEngine(weights: TextWeights, logitScale: number, choice: EngineChoice, log: (s: string) => void, threads = defaultThreads()): Promise<TextEngineLike> {
  const forced = choice === 'cpu' || choice === 'reference' ? { path: 'cpu' as const, by: `--engine ${choice}` } : choice === 'wgsl' ? { path: 'gpu' as const, by: '--engine wgsl' } : undefined;
  let gpu: GPU | undefined;
  if (choice !== 'cpu' && choice !== 'reference') {
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
  // The CPU engine on `threads` threads: the WASM SIMD kernels (this thread and threads − 1 worker_threads over one
  // shared memory), or with `--engine reference` the JavaScript twins (their matmuls over worker_threads).
  const cpuKernels = choice === 'reference' ? undefined : () => WasmKernels.create({ threads, web: false });
  const cpuPool = () => (threads > 1 ? nodeMatmulPool(threads - 1) : null);
  const { engine, choice: picked } = await chooseByMeasurement({ weights, logitScale, gpu, forced, cpuKernels, cpuPool, onLost: (m) => process.stderr.write(m + '\n') });
  log(`text engine: ${picked.reason}`);
  return engine;
}
