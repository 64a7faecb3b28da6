/**
 * The WGSL text engine (src/engine/text-engine.ts) behind the worker's TextEngineLike, on a GPUDevice the worker
 * requests for itself (a page's GPUDevice cannot cross into a worker).
 *
 * Before it is trusted, its forward pass is checked against the CPU twin on a few real prompts: a driver or
 * software rasterizer that miscomputes a kernel should cost speed (the CPU fallback), never a silently wrong run.
 */
import { encodeTokensCpu } from '../engine/cpu-text-encoder';
import { requestEngineDevice } from '../engine/gpu/device';
import { cosine } from '../engine/load-proof';
import type { PromptSpec } from '../engine/prompt';
import type { TextWeights } from '../engine/model/text-weights';
import { createTextEngine, type TextEngine, type SecondTextGrad, type TextFeatureGrad } from '../engine/text-engine';
import { type GpuMemory, type TextEngineLike, type TextStepResult } from './text-engine';
import { towerStepGpu } from '../engine/gpu-tower';
import type { TowerStepInput, TowerStepResult } from '../engine/tower';

/** How long a failed GPU call waits for the device's `lost` promise before it counts as an ordinary error. */
const LOST_GRACE_MS = 2000;

export class GpuTextEngine implements TextEngineLike {
  readonly kind = 'webgpu' as const;
  private spec: PromptSpec | null = null;

  private constructor(
    private readonly engine: TextEngine,
    private readonly device: GPUDevice,
    readonly weights: TextWeights,
    private readonly logitScale: number,
    readonly detail: string,
  ) {}

  /** Null (with the reason) when the device or the self-check fails; `onLost` fires if the device goes later. */
  static async create(
    gpu: GPU,
    weights: TextWeights,
    logitScale: number,
    onLost: (message: string) => void,
  ): Promise<{ engine: GpuTextEngine } | { reason: string }> {
    let device: GPUDevice;
    try {
      device = await requestEngineDevice(gpu, { label: 'coop-train-worker' });
    } catch (e) {
      return { reason: `no WebGPU device in the worker (${(e as Error).message})` };
    }
    let deliberate = false;
    void device.lost.then((info) => {
      if (deliberate || info.reason === 'destroyed') return;
      const why = info.message.trim().replace(/\.+$/, '');
      onLost(`The GPU device of the training worker was lost${why ? ` (${why})` : ''}. Training stopped; press Resume to continue on a new device.`);
    });
    const fail = (reason: string) => {
      deliberate = true;
      device.destroy();
      return { reason };
    };
    let engine: TextEngine;
    try {
      engine = createTextEngine(device, weights);
    } catch (e) {
      return fail(`the WGSL engine could not be created (${(e as Error).message})`);
    }
    try {
      const worst = await selfCheck(engine, weights);
      if (!(worst > 0.9999)) {
        engine.destroy();
        return fail(`the WGSL engine's forward disagrees with the CPU twin on this device (cosine ${worst.toFixed(5)})`);
      }
    } catch (e) {
      engine.destroy();
      return fail(`the WGSL engine failed its self-check (${(e as Error).message})`);
    }
    const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
    const where = [info?.vendor, info?.architecture, info?.description].filter(Boolean).join(' ');
    return { engine: new GpuTextEngine(engine, device, weights, logitScale, `WGSL text engine on WebGPU${where ? ` (${where})` : ''}`) };
  }

  gpuMemory(): GpuMemory {
    return { liveBytes: this.engine.allocator.liveBytes, peakBytes: this.engine.allocator.peakBytes };
  }

  setPrompts(spec: PromptSpec): void {
    this.spec = spec;
  }

  async step(ctx: Float32Array, imageFeatures: Float32Array, labels: Int32Array, textGrad?: TextFeatureGrad, secondGrad?: SecondTextGrad): Promise<TextStepResult> {
    const s = this.spec;
    if (!s) throw new Error('the text engine has no prompts yet');
    const r = await this.engine.step({
      ctx,
      tokenIds: s.tokenIds,
      nameLens: s.nameLens,
      csc: s.csc,
      position: s.position,
      imageFeatures,
      labels,
      logitScale: Math.min(this.logitScale, 100),
      textGrad,
      secondGrad,
    });
    return { loss: r.loss, logits: r.logits, gradCtx: r.gradCtx, textFeatures: r.textFeatures, ...(r.gradCtx2 ? { gradCtx2: r.gradCtx2 } : {}) };
  }

  towerStep(input: TowerStepInput): Promise<TowerStepResult> {
    const s = this.spec;
    if (!s) throw new Error('the text engine has no prompts yet');
    return towerStepGpu(this.engine, s, input);
  }

  /** text_embeds (unnormalized) of full token-id rows, for the load-time proof against ORT. */
  encodeTokens(ids: Int32Array, rows: number): Promise<Float32Array> {
    return this.engine.encodeTokens(ids, rows);
  }

  /** Forward only (the tower step without a loss): no backward is run and discarded per evaluation. */
  async textFeatures(ctx: Float32Array): Promise<Float32Array> {
    if (!this.spec) throw new Error('the text engine has no prompts yet');
    return (await this.towerStep({ ctx, csc: this.spec.csc })).textFeatures;
  }

  isLost(): Promise<boolean> {
    return Promise.race([this.device.lost.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), LOST_GRACE_MS))]);
  }

  dispose(): void {
    this.engine.destroy();
    this.device.destroy();
  }
}

/** Lowest cosine between the engine's and the CPU twin's text_embeds over a few prompts of the model's own vocabulary. */
async function selfCheck(engine: TextEngine, weights: TextWeights): Promise<number> {
  const { V, P } = weights.config;
  const sos = V - 2;
  const eos = V - 1;
  const rows = [
    [sos, 1, 2, 3, eos],
    [sos, 10, 20, 30, 40, 50, 60, eos],
    [sos, Math.min(V - 3, 300), eos],
  ];
  const ids = new Int32Array(rows.length * P);
  rows.forEach((r, i) => ids.set(r.map((x) => Math.min(x, V - 1)), i * P));
  const gpu = await engine.encodeTokens(ids, rows.length);
  const cpu = encodeTokensCpu(weights, ids, rows.length);
  const E = weights.config.E;
  let worst = 1;
  for (let i = 0; i < rows.length; i++) worst = Math.min(worst, cosine(gpu.subarray(i * E, (i + 1) * E), cpu.subarray(i * E, (i + 1) * E)));
  return Number.isFinite(worst) ? worst : -1;
}
