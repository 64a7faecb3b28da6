/**
 * The CPU engine: the text transformer's CPU composition (src/engine/cpu-text-encoder.ts, shared prefix and EOS cut)
 * behind the worker's TextEngineLike, used when WebGPU is absent, slower or unwanted, and labelled so in the UI. Its
 * kernels are the WASM SIMD ones (src/engine/wasm/kernels.ts: fp32, threads over shared memory) or, where WebAssembly
 * SIMD is missing or the reference is asked for, the JavaScript twins (f64 accumulation, optional matmul workers).
 */
import { coopStepCpu, encodeTokensCpu } from '../engine/cpu-text-encoder';
import { promptLayout, type PromptLayout, type PromptSpec } from '../engine/prompt';
import type { TextWeights } from '../engine/model/text-weights';
import { makeCpuTowerStep } from '../engine/cpu-tower';
import type { TowerStepInput, TowerStepResult } from '../engine/tower';
import type { TextEngineLike, TextStepResult } from './text-engine';
import type { SecondTextGrad, TextFeatureGrad } from '../engine/text-engine';
import { installMatmulPool, type MatmulPool } from '../engine/ops/matmul/cpu-pool';
import { referenceKernels } from '../engine/ops/kernels';
import type { WasmKernels } from '../engine/wasm/kernels';

export interface CpuTextEngineOptions {
  weights: TextWeights;
  /** Already exponentiated, as manifest.json's logit_scale; clamped at 100 as CoOp does. */
  logitScale: number;
  /**
   * Worker threads for the matmuls (src/engine/ops/matmul/cpu-pool.ts), owned by the engine from then on: installed
   * for its steps and destroyed with it. Same bits as one thread; 1.39× per ViT-B/32 step on this 2-core machine.
   */
  pool?: MatmulPool | null;
  /**
   * The WASM SIMD kernels, owned by the engine from then on (destroyed with it); the weights are adopted (packed
   * into its memory) here. Absent: the JavaScript reference kernels.
   */
  kernels?: WasmKernels | null;
}

export class CpuTextEngine implements TextEngineLike {
  readonly kind = 'cpu' as const;
  detail = 'CPU (JavaScript)';
  private layout: PromptLayout | null = null;
  private spec: PromptSpec | null = null;

  /** The weights the composition computes with: with WASM kernels, the adopted ones (matrices packed in its memory). */
  private readonly w: TextWeights;

  private readonly opts: CpuTextEngineOptions;

  constructor(opts: CpuTextEngineOptions) {
    this.w = opts.kernels ? opts.kernels.adoptWeights(opts.weights) : opts.weights;
    // Not the caller's weights: once adopted, their matrices are garbage unless the caller keeps them.
    this.opts = { ...opts, weights: this.w };
    this.detail = this.describe();
  }

  /** Which kernels: 'wasm' or 'reference'. */
  get kernelName(): 'wasm' | 'reference' {
    return this.opts.kernels ? 'wasm' : 'reference';
  }

  /** "WebAssembly SIMD, 2 threads" or "JavaScript reference, 1 thread": what runs, in the UI's words. */
  describe(): string {
    const k = this.opts.kernels;
    const threads = `${this.threads} thread${this.threads > 1 ? 's' : ''}`;
    return k ? `WebAssembly SIMD${k.relaxed ? ' with FMA' : ''}, ${threads}` : `JavaScript reference, ${threads}`;
  }

  get weights(): TextWeights {
    return this.w;
  }

  /** Threads a step's matmuls run on. */
  get threads(): number {
    return this.opts.kernels?.threads ?? this.opts.pool?.threads ?? 1;
  }

  /** Its own pool (or none) goes in before each computation: another engine may have installed a different one. */
  private usePool(): void {
    installMatmulPool(this.opts.pool ?? null);
  }

  setPrompts(spec: PromptSpec): void {
    this.layout = promptLayout(spec, this.w.config.V);
    this.spec = spec;
  }

  towerStep(input: TowerStepInput): Promise<TowerStepResult> {
    const spec = this.spec;
    if (!spec) throw new Error('the text engine has no prompts yet');
    const kern = this.opts.kernels;
    // Inside the kernels' run (their outputs are arena views, copied out there); the reference on its own pool.
    const run = kern ? <T>(f: () => T) => kern.run(f) : <T>(f: () => T) => (this.usePool(), f());
    return makeCpuTowerStep(this.w, spec, kern ?? referenceKernels, run)(input);
  }

  async step(ctx: Float32Array, imageFeatures: Float32Array, labels: Int32Array, textGrad?: TextFeatureGrad, secondGrad?: SecondTextGrad): Promise<TextStepResult> {
    if (!this.layout) throw new Error('the text engine has no prompts yet');
    const kern = this.opts.kernels;
    const input = { layout: this.layout, ctx, imageFeatures, labels, logitScale: Math.min(this.opts.logitScale, 100), textGrad, secondGrad };
    const copyOut = (r: ReturnType<typeof coopStepCpu>): TextStepResult => ({
      loss: r.loss,
      logits: Float32Array.from(r.logits),
      gradCtx: Float32Array.from(r.gradCtx),
      ...(r.gradCtx2 ? { gradCtx2: Float32Array.from(r.gradCtx2) } : {}),
      ...(textGrad ? { textFeatures: Float32Array.from(r.textFeatures) } : {}),
    });
    // The WASM kernels' outputs are views of its arena, reused by the next run: copied out inside it.
    if (kern) return kern.run(() => copyOut(coopStepCpu(this.w, input, 'fast', kern)));
    this.usePool();
    return copyOut(coopStepCpu(this.w, input, 'fast', referenceKernels));
  }

  /**
   * On one thread, as before the pool: with the pool installed, the load-time proof hung in Chromium's training
   * worker (the steps do not), a cause not yet found; one thread is what the proof and the baselines always used.
   */
  async encodeTokens(ids: Int32Array, rows: number): Promise<Float32Array> {
    const kern = this.opts.kernels;
    if (kern) return kern.run(() => encodeTokensCpu(this.w, ids, rows, kern));
    installMatmulPool(null);
    return encodeTokensCpu(this.w, ids, rows);
  }

  /** Forward only: the tower step without a loss (shared prefix and chunks as a step's). */
  async textFeatures(ctx: Float32Array): Promise<Float32Array> {
    if (!this.spec) throw new Error('the text engine has no prompts yet');
    return (await this.towerStep({ ctx, csc: this.spec.csc })).textFeatures;
  }

  dispose(): void {
    this.layout = null;
    this.spec = null;
    this.opts.kernels?.destroy();
    this.opts.kernels = null;
    this.opts.pool?.destroy();
    this.opts.pool = null;
  }
}
