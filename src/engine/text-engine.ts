/**
 * The WGSL text engine: CLIP's frozen text transformer, forward and backward, on WebGPU,
 * for CoOp steps (loss, logits and d loss / d context vectors) and for plain text_embeds.
 *
 * It takes a GPUDevice and parsed weights and knows nothing of pages, workers or Node.
 * The algorithm is the CPU twin's (cpu-text-encoder.ts) with the memory plan of plan.ts:
 * the shared prefix runs once, classes run in chunks, the last chunk's activations are
 * reused by backward and earlier chunks are recomputed. Every buffer comes from the plan,
 * through the byte-counting allocator.
 */
import { GpuAllocator } from './gpu/allocator';
import { onDispatch } from './gpu/dispatch';
import { encodeAddInPlace } from './ops/add/gpu';
import { encodeAttentionBackward, encodeAttentionForward } from './ops/attention/gpu';
import { encodeCosineCEBackward, encodeCosineCEForward } from './ops/cosine-ce/gpu';
import { encodeEmbeddingForward } from './ops/embedding/gpu';
import { encodeGatherRowsBackward, encodeGatherRowsForward } from './ops/gather/gpu';
import { encodeL2NormalizeBackward, encodeL2NormalizeForward } from './ops/l2norm/gpu';
import { encodeLayerNormBackward, encodeLayerNormForward } from './ops/layernorm/gpu';
import { encodeLinearBackward, encodeLinearForward } from './ops/linear/gpu';
import { encodeMatmul } from './ops/matmul/gpu';
import { encodeDeepTokensCollect, encodeDeepTokensReplace } from './ops/deep-tokens/gpu';
import { checkDeepTokens, towerPrefixCap, type DeepTokens, type FeatureLoss } from './tower';
import type { Arr } from './ops/tensor';
import type { TextConfig, TextWeights } from './model/text-weights';
import { loadTextWeights } from './model/text-weights';
import { chunkForBudget, chunkSizes, DEFAULT_ACTIVATION_BUDGET, stepBuffers, weightBuffers, workspaceBuffers, type EngineMode, type ModelShape, type PlannedBuffer, type StepShape } from './plan';
import { eosIndex, promptLayout, sharedPrefixLength, usedLength, type ClassTokenPosition, type PromptLayout } from './prompt';

export interface TextEngineOptions {
  /** 'fast' (cut at EOS, shared prefix) or 'naive' (all positions of every class, as the original). */
  mode?: EngineMode;
  /** Classes per chunk: activation memory is proportional to it, not to K. Default: what fits `activationBudget`. */
  chunk?: number;
  /** Bytes one chunk's activations may take when `chunk` is not given. Default 512 MiB. */
  activationBudget?: number;
}

export interface StepInput {
  /** [M·D] unified or [K·M·D] class-specific context vectors. */
  ctx: Float32Array;
  /** Per class, the tokenized "X … X name." (77 ids). */
  tokenIds: ArrayLike<number>[];
  /** BPE tokens of each class name. */
  nameLens: ArrayLike<number>;
  csc: boolean;
  position: ClassTokenPosition;
  /** [N·E] flat, or N rows of E; L2-normalized. */
  imageFeatures: Float32Array | ArrayLike<number>[];
  labels: ArrayLike<number>;
  /** exp(logit_scale), the scale multiplying cosines. */
  logitScale: number;
  /** Overrides the engine's mode for this step. */
  mode?: EngineMode;
  /** A method's own term at the loss stage (KgCoOp, ProGrad): see TextFeatureGrad. Also returns textFeatures. */
  textGrad?: TextFeatureGrad;
  /** A second upstream gradient formed from this step's logits (ProGrad's KL): see SecondTextGrad. Gives gradCtx2. */
  secondGrad?: SecondTextGrad;
  /** Deep tokens between blocks (tower.ts); rows are the tokenIds' rows. Not with secondGrad. */
  deep?: DeepTokens[];
  /** A host loss on the rows' normalized features in place of the CE (tower.ts); images and labels then unused. */
  featureLoss?: FeatureLoss;
  /** Stop at the normalized text features (StepResult.textFeatures): no loss, no backward. */
  forwardOnly?: boolean;
}

/**
 * What a prompt-learning method adds to CoOp's loss stage, on the L2-normalized text features [K·E]: `add` is added
 * to d loss / d (normalized text features) before the one backward through the encoder (the backward is linear in
 * it); with `replace` it stands in for the cross-entropy's gradient instead (the reported loss stays the CE).
 */
export interface TextFeatureGrad {
  add: Float32Array;
  replace?: boolean;
}

/**
 * A second upstream gradient on the normalized text features that depends on the step's own logits [N·K] (ProGrad:
 * the KL divergence from zero-shot CLIP's predictions, prograd.ts). The step runs ONE forward; once its logits are
 * known this is called, and both upstream gradients are backpropagated through the same kept activations (per chunk
 * while that chunk's activations are live, so nothing is recomputed for the second), giving StepResult.gradCtx2.
 */
export type SecondTextGrad = (logits: Float32Array | Float64Array) => TextFeatureGrad;

export interface StepStats {
  mode: EngineMode;
  /** Token positions run through the transformer (first forward). */
  positions: number;
  /** Positions run a second time to rebuild activations of earlier chunks. */
  recomputedPositions: number;
  /** Positions per class computed, and the shared prefix. */
  T: number;
  prefix: number;
  chunks: number;
  /** Compute dispatches, buffer copies/clears and queue submissions the step encoded. */
  dispatches: number;
  copies: number;
  submits: number;
  /** Bytes mapped back to the CPU (loss, logits, context gradient), all at the end of the step. */
  readbackBytes: number;
}

export interface StepResult {
  loss: number;
  /** [N·K] */
  logits: Float32Array;
  /** Same layout as ctx. */
  gradCtx: Float32Array;
  stats: StepStats;
  /** Normalized text features [K·E] of this step, when it had a textGrad. */
  textFeatures?: Float32Array;
  /** The second upstream gradient's d / d ctx (same layout as ctx), when the step had a secondGrad. */
  gradCtx2?: Float32Array;
  /** d loss / d deep tokens, one per entry of StepInput.deep, in its layout. */
  gradDeep?: Float32Array[];
}

/** A step's deep tokens on the GPU: per entry its tokens and gradient buffers. */
interface DeepEntry {
  block: number;
  m: number;
  perRow: boolean;
  tokens: GPUBuffer;
  grad: GPUBuffer;
}

/** Which rows and positions a run covers, for the deep tokens (a class chunk: r0 = its first row, offset = P). */
interface DeepRun {
  entries: DeepEntry[];
  r0: number;
  offset: number;
}

export interface TextEngine {
  readonly config: TextConfig;
  readonly allocator: GpuAllocator;
  readonly mode: EngineMode;
  step(input: StepInput): Promise<StepResult>;
  /** text_embeds [B·E] (unnormalized, as CLIPTextModelWithProjection) for B rows of token ids. */
  encodeTokens(ids: Int32Array | ArrayLike<number>[], batch?: number): Promise<Float32Array>;
  /** The buffers the last step allocated, as planned. */
  readonly lastPlan: PlannedBuffer[];
  readonly lastStats: StepStats | undefined;
  destroy(): void;
}

/** Parses the model file (text_model.onnx bytes + config.json) and creates the engine. */
export function createTextEngineFromModel(device: GPUDevice, modelBytes: ArrayBuffer | Uint8Array, configJson: unknown, options?: TextEngineOptions): TextEngine {
  return createTextEngine(device, loadTextWeights(modelBytes, configJson), options);
}

export function createTextEngine(device: GPUDevice, weights: TextWeights, options: TextEngineOptions = {}): TextEngine {
  return new WgslTextEngine(device, weights, options);
}

const MAP_READ = 0x0001;
const COPY_DST = 0x0008;

type Bufs = Map<string, GPUBuffer>;

function toF32(a: Arr): Float32Array {
  return a instanceof Float32Array ? a : Float32Array.from(a);
}

/** Typed arrays over a plain or shared ArrayBuffer both upload fine; TS's lib types disagree. */
function bytesOf(a: ArrayBufferView): GPUAllowSharedBufferSource {
  return a as unknown as GPUAllowSharedBufferSource;
}

/** Buffers of one run of B sequences × S positions (prefix or class chunk), looked up by plan name. */
class Workspace {
  constructor(
    readonly bufs: Bufs,
    readonly prefix: string,
    /** capacity in sequences */
    readonly B: number,
    readonly S: number,
    /** prefix length its attention sees */
    readonly P: number,
  ) {}
  get(name: string): GPUBuffer {
    const b = this.bufs.get(this.prefix + name);
    if (!b) throw new Error(`text engine: no buffer '${this.prefix + name}' in the plan`);
    return b;
  }
}

interface LayoutState {
  key: string;
  layout: PromptLayout;
  mode: EngineMode;
  shape: StepShape;
  sizes: number[];
  bufs: Bufs;
  prefix?: Workspace;
  chunk: Workspace;
  planned: PlannedBuffer[];
}

interface BatchState {
  N: number;
  K: number;
  ctxFloats: number;
  bufs: Bufs;
  planned: PlannedBuffer[];
}

const BATCH_NAMES = new Set(['image', 'labels', 'logits', 'dLogits', 'lse', 'rowLoss', 'loss', 'readback']);

class WgslTextEngine implements TextEngine {
  readonly config: TextConfig;
  readonly allocator: GpuAllocator;
  readonly mode: EngineMode;
  private readonly chunkOption?: number;
  private readonly budget: number;
  private readonly shape: ModelShape;
  private weightBufs: Bufs = new Map();
  private tableCtxRows = -1;
  private layoutState?: LayoutState;
  private batchState?: BatchState;
  private busy = false;
  /** A method's loss-stage buffers (textGrad in, text features out), K·E floats each; outside plan.ts's step plan. */
  private methodBufs?: { n: number; add: GPUBuffer; readback: GPUBuffer };
  /** A second upstream gradient's buffers (secondGrad), outside plan.ts's step plan as methodBufs. */
  private secondBufs?: SecondBufs;
  /** The deep tokens' buffers (tokens in, gradients out), outside plan.ts's step plan as methodBufs. */
  private deepBufs?: { key: string; entries: DeepEntry[] };
  lastStats: StepStats | undefined;
  lastPlan: PlannedBuffer[] = [];

  constructor(
    readonly device: GPUDevice,
    private readonly weights: TextWeights,
    options: TextEngineOptions,
  ) {
    this.config = weights.config;
    this.allocator = new GpuAllocator(device);
    this.mode = options.mode ?? 'fast';
    this.chunkOption = options.chunk === undefined ? undefined : Math.max(1, Math.floor(options.chunk));
    this.budget = options.activationBudget ?? DEFAULT_ACTIVATION_BUDGET;
    const c = this.config;
    this.shape = { D: c.D, L: c.L, H: c.H, V: c.V, E: c.E, P: c.P, F: c.F };
    this.uploadWeights(0);
  }

  // ---- buffers -------------------------------------------------------------------------------

  private allocate(list: PlannedBuffer[], into: Bufs): void {
    for (const b of list) {
      const usage = b.group === 'readback' ? MAP_READ | COPY_DST : undefined;
      into.set(b.name, this.allocator.create(b.bytes, { usage, label: b.name }));
    }
  }

  private free(bufs: Bufs): void {
    for (const b of bufs.values()) this.allocator.destroy(b);
    bufs.clear();
  }

  /** Weights go up once; the token table is rebuilt only when the number of context rows changes. */
  private uploadWeights(ctxRows: number): void {
    const w = this.weights;
    const q = this.device.queue;
    if (this.weightBufs.size === 0) {
      const list = weightBuffers(this.shape, ctxRows);
      const data = new Map<string, Arr>([
        ['position', w.positionEmbedding],
        ['final.w', w.finalLn.weight],
        ['final.b', w.finalLn.bias],
        ['projection', w.projection],
      ]);
      w.layers.forEach((lw, l) => {
        data.set(`${l}.ln1.w`, lw.ln1.weight).set(`${l}.ln1.b`, lw.ln1.bias);
        data.set(`${l}.ln2.w`, lw.ln2.weight).set(`${l}.ln2.b`, lw.ln2.bias);
        for (const n of ['q', 'k', 'v', 'out', 'fc1', 'fc2'] as const) data.set(`${l}.${n}.w`, lw[n].w).set(`${l}.${n}.b`, lw[n].b);
      });
      for (const b of list) {
        if (b.name === 'table') continue;
        const src = data.get(b.name);
        if (!src) throw new Error(`text engine: no weight for planned buffer '${b.name}'`);
        this.weightBufs.set(b.name, this.allocator.fromData(toF32(src), { label: b.name }));
      }
    }
    if (ctxRows !== this.tableCtxRows) {
      const old = this.weightBufs.get('table');
      const bytes = weightBuffers(this.shape, ctxRows).find((b) => b.name === 'table')!.bytes;
      const table = this.allocator.create(bytes, { label: 'table' });
      if (old) {
        // The vocabulary rows move on the GPU: a step whose number of context rows changes (CoCoOp's training rows
        // against its evaluation rows) does not upload the whole embedding table again (~100 MB at ViT-B).
        const enc = this.device.createCommandEncoder({ label: 'token table resize' });
        enc.copyBufferToBuffer(old, 0, table, 0, this.shape.V * this.shape.D * 4);
        q.submit([enc.finish()]);
        this.allocator.destroy(old);
      } else q.writeBuffer(table, 0, bytesOf(toF32(w.tokenEmbedding)));
      this.weightBufs.set('table', table);
      this.tableCtxRows = ctxRows;
    }
  }

  private chunkFor(T: number, P: number): number {
    return this.chunkOption ?? chunkForBudget(this.shape, T, P, this.budget);
  }

  private w(name: string): GPUBuffer {
    const b = this.weightBufs.get(name);
    if (!b) throw new Error(`text engine: no weight buffer '${name}'`);
    return b;
  }

  private prepareLayout(layout: PromptLayout, mode: EngineMode, prefixCap = Infinity): LayoutState {
    const T = mode === 'fast' ? usedLength(layout) : layout.T;
    const P = mode === 'fast' ? Math.min(sharedPrefixLength(layout), prefixCap) : 0;
    const { K, vocab } = layout;
    const key = `${mode}|${K}|${layout.M}|${layout.csc}|${T}|${P}|${layout.rows.join(',')}`;
    if (this.layoutState?.key === key) return this.layoutState;
    if (this.layoutState) this.free(this.layoutState.bufs);
    this.layoutState = undefined;

    let prefixHasCtx = false;
    for (let p = 0; p < P; p++) if (layout.rows[p] >= vocab) prefixHasCtx = true;
    let suffixHasCtx = false;
    for (let k = 0; k < K && !suffixHasCtx; k++) for (let t = P; t < T; t++) if (layout.rows[k * layout.T + t] >= vocab) suffixHasCtx = true;
    const chunk = this.chunkFor(T, P);
    const shape: StepShape = { K, M: layout.M, csc: layout.csc, T, P, chunk, N: 0, prefixHasCtx, suffixHasCtx };
    const planned = stepBuffers(this.shape, shape).filter((b) => !BATCH_NAMES.has(b.name));
    const bufs: Bufs = new Map();
    this.uploadWeights(layout.ctxRows);
    this.allocate(planned, bufs);

    // Static per-layout data: which table row each position reads, EOS, and the selection
    // matrices that gather d(input embeddings) into d ctx.
    const S = T - P;
    const q = this.device.queue;
    const M = layout.M;
    const sizes = chunkSizes(K, chunk);
    let k0 = 0;
    sizes.forEach((c, i) => {
      const rows = new Uint32Array(c * S);
      const eos = new Uint32Array(c);
      const sel = suffixHasCtx ? new Float32Array(M * c * S) : undefined;
      for (let j = 0; j < c; j++) {
        const k = k0 + j;
        eos[j] = layout.eos[k] - P;
        for (let s = 0; s < S; s++) {
          const r = layout.rows[k * layout.T + P + s];
          rows[j * S + s] = r;
          if (sel && r >= vocab) {
            const m = r - vocab - (layout.csc ? k * M : 0);
            if (layout.csc) sel[(j * M + m) * S + s] = 1;
            else sel[m * c * S + j * S + s] = 1;
          }
        }
      }
      q.writeBuffer(bufs.get(`rows.${i}`)!, 0, rows);
      q.writeBuffer(bufs.get(`eos.${i}`)!, 0, eos);
      if (sel) q.writeBuffer(bufs.get(`sel.${i}`)!, 0, sel);
      k0 += c;
    });
    if (P > 0) {
      q.writeBuffer(bufs.get('prefix.rows')!, 0, Uint32Array.from(layout.rows.subarray(0, P)));
      if (prefixHasCtx) {
        const sel = new Float32Array(layout.ctxRows * P);
        for (let p = 0; p < P; p++) {
          const r = layout.rows[p];
          if (r >= vocab) sel[(r - vocab) * P + p] = 1;
        }
        q.writeBuffer(bufs.get('prefix.sel')!, 0, sel);
      }
    }
    const C = sizes[0];
    this.layoutState = {
      key,
      layout,
      mode,
      shape,
      sizes,
      bufs,
      prefix: P > 0 ? new Workspace(bufs, 'p.', 1, P, 0) : undefined,
      chunk: new Workspace(bufs, 'c.', C, S, P),
      planned,
    };
    return this.layoutState;
  }

  private prepareBatch(N: number, K: number, ctxFloats: number): BatchState {
    const b = this.batchState;
    if (b && b.N === N && b.K === K && b.ctxFloats === ctxFloats) return b;
    if (b) this.free(b.bufs);
    const st = this.layoutState!.shape;
    const planned = stepBuffers(this.shape, { ...st, N }).filter((x) => BATCH_NAMES.has(x.name));
    const bufs: Bufs = new Map();
    this.allocate(planned, bufs);
    this.batchState = { N, K, ctxFloats, bufs, planned };
    return this.batchState;
  }

  // ---- encoding ------------------------------------------------------------------------------

  private encodeLayersForward(pass: GPUComputePassEncoder, ws: Workspace, B: number, prefix?: Workspace, deep?: DeepRun): void {
    const dev = this.device;
    const { D, F, H, L, eps } = this.config;
    const rows = B * ws.S;
    const dims = { b: B, t: ws.S, p: ws.P, h: H, dh: D / H };
    for (let l = 0; l < L; l++) {
      const x = ws.get(`x.${l}`);
      // Deep tokens overwrite this block's input at positions 1..M (block l − 1's output there is discarded).
      const de = l > 0 ? deep?.entries.find((e) => e.block === l) : undefined;
      if (de && deep) encodeDeepTokensReplace(dev, pass, { tokens: de.tokens, x }, { b: B, s: ws.S, d: D, m: de.m, offset: deep.offset, r0: deep.r0, perRow: de.perRow });
      const h = ws.get('h');
      const t = ws.get('t');
      encodeLayerNormForward(dev, pass, { x, gamma: this.w(`${l}.ln1.w`), beta: this.w(`${l}.ln1.b`), y: h, mean: ws.get(`m1.${l}`), rstd: ws.get(`r1.${l}`) }, { rows, d: D, eps });
      for (const n of ['q', 'k', 'v'] as const) {
        encodeLinearForward(dev, pass, { x: h, w: this.w(`${l}.${n}.w`), b: this.w(`${l}.${n}.b`), y: ws.get(`${n}.${l}`) }, { n: rows, inDim: D, outDim: D });
      }
      const o = ws.get(`o.${l}`);
      encodeAttentionForward(
        dev,
        pass,
        { q: ws.get(`q.${l}`), k: ws.get(`k.${l}`), v: ws.get(`v.${l}`), kp: prefix?.get(`k.${l}`), vp: prefix?.get(`v.${l}`), o },
        dims,
      );
      // Residual adds and QuickGELU run in the matmuls' epilogues (one pass each instead of two).
      const xmid = ws.get(`xmid.${l}`);
      encodeLinearForward(dev, pass, { x: o, w: this.w(`${l}.out.w`), b: this.w(`${l}.out.b`), y: xmid, residual: x }, { n: rows, inDim: D, outDim: D });
      encodeLayerNormForward(dev, pass, { x: xmid, gamma: this.w(`${l}.ln2.w`), beta: this.w(`${l}.ln2.b`), y: h, mean: ws.get(`m2.${l}`), rstd: ws.get(`r2.${l}`) }, { rows, d: D, eps });
      const f = ws.get(`f.${l}`);
      const g = ws.get('g');
      encodeLinearForward(dev, pass, { x: h, w: this.w(`${l}.fc1.w`), b: this.w(`${l}.fc1.b`), y: f, gelu: g }, { n: rows, inDim: D, outDim: F });
      encodeLinearForward(dev, pass, { x: g, w: this.w(`${l}.fc2.w`), b: this.w(`${l}.fc2.b`), y: ws.get(`x.${l + 1}`), residual: xmid }, { n: rows, inDim: F, outDim: D });
    }
  }

  /**
   * From d x.L in ws 'dX' down to d x.0 (in place). With a prefix, adds this run's prefix
   * key/value gradients into `accum`; `extra` adds gradients other runs sent to this run's
   * own keys/values (the classes' contributions to the prefix).
   */
  private encodeLayersBackward(
    pass: GPUComputePassEncoder,
    ws: Workspace,
    B: number,
    prefix?: Workspace,
    accum?: { dK: GPUBuffer[]; dV: GPUBuffer[] },
    extra?: { dK: GPUBuffer[]; dV: GPUBuffer[] },
    deep?: DeepRun,
  ): void {
    const dev = this.device;
    const { D, F, H, L } = this.config;
    const rows = B * ws.S;
    const dims = { b: B, t: ws.S, p: ws.P, h: H, dh: D / H };
    const dX = ws.get('dX');
    const h = ws.get('h');
    const t = ws.get('t');
    const dF = ws.get('dF');
    const [dq, dk, dv] = [ws.get('dq'), ws.get('dk'), ws.get('dv')];
    for (let l = L - 1; l >= 0; l--) {
      encodeLinearBackward(dev, pass, { dy: dX, w: this.w(`${l}.fc2.w`), dx: dF, geluGradOf: ws.get(`f.${l}`) }, { n: rows, inDim: F, outDim: D });
      encodeLinearBackward(dev, pass, { dy: dF, w: this.w(`${l}.fc1.w`), dx: h }, { n: rows, inDim: D, outDim: F });
      encodeLayerNormBackward(
        dev,
        pass,
        { dy: h, x: ws.get(`xmid.${l}`), gamma: this.w(`${l}.ln2.w`), mean: ws.get(`m2.${l}`), rstd: ws.get(`r2.${l}`), dx: dX },
        { rows, d: D, accumulate: true },
      );
      encodeLinearBackward(dev, pass, { dy: dX, w: this.w(`${l}.out.w`), dx: t }, { n: rows, inDim: D, outDim: D });
      encodeAttentionBackward(
        dev,
        pass,
        {
          q: ws.get(`q.${l}`),
          k: ws.get(`k.${l}`),
          v: ws.get(`v.${l}`),
          kp: prefix?.get(`k.${l}`),
          vp: prefix?.get(`v.${l}`),
          o: ws.get(`o.${l}`),
          dO: t,
          scratch: ws.get('scratch'),
          dq,
          dk,
          dv,
          dkp: ws.P > 0 ? ws.get('dkp') : undefined,
          dvp: ws.P > 0 ? ws.get('dvp') : undefined,
        },
        dims,
      );
      if (ws.P > 0 && accum) {
        encodeAddInPlace(dev, pass, { a: accum.dK[l], b: ws.get('dkp') }, ws.P * D);
        encodeAddInPlace(dev, pass, { a: accum.dV[l], b: ws.get('dvp') }, ws.P * D);
      }
      if (extra) {
        encodeAddInPlace(dev, pass, { a: dk, b: extra.dK[l] }, rows * D);
        encodeAddInPlace(dev, pass, { a: dv, b: extra.dV[l] }, rows * D);
      }
      encodeLinearBackward(dev, pass, { dy: dq, w: this.w(`${l}.q.w`), dx: h }, { n: rows, inDim: D, outDim: D });
      encodeLinearBackward(dev, pass, { dy: dk, w: this.w(`${l}.k.w`), dx: h }, { n: rows, inDim: D, outDim: D, accumulate: true });
      encodeLinearBackward(dev, pass, { dy: dv, w: this.w(`${l}.v.w`), dx: h }, { n: rows, inDim: D, outDim: D, accumulate: true });
      encodeLayerNormBackward(
        dev,
        pass,
        { dy: h, x: ws.get(`x.${l}`), gamma: this.w(`${l}.ln1.w`), mean: ws.get(`m1.${l}`), rstd: ws.get(`r1.${l}`), dx: dX },
        { rows, d: D, accumulate: true },
      );
      // dX is now d(block l's input): the deep tokens take it at their positions, and nothing flows below there.
      const de = l > 0 ? deep?.entries.find((e) => e.block === l) : undefined;
      if (de && deep) encodeDeepTokensCollect(dev, pass, { dx: dX, grad: de.grad }, { b: B, s: ws.S, d: D, m: de.m, offset: deep.offset, r0: deep.r0, perRow: de.perRow });
    }
  }

  /** Embedding gather (+ positions from `posOffset`) into x.0, then all layers. */
  private encodeRunForward(pass: GPUComputePassEncoder, ws: Workspace, B: number, rows: GPUBuffer, posOffset: number, prefix?: Workspace, deep?: DeepRun): void {
    encodeEmbeddingForward(
      this.device,
      pass,
      { table: this.w('table'), pos: this.w('position'), ids: rows, out: ws.get('x.0') },
      { b: B, t: ws.S, d: this.config.D, posOffset },
    );
    this.encodeLayersForward(pass, ws, B, prefix, deep);
  }

  private encodeHeadForward(pass: GPUComputePassEncoder, ws: Workspace, B: number, eos: GPUBuffer): void {
    const dev = this.device;
    const { D, E, L, eps } = this.config;
    encodeGatherRowsForward(dev, pass, { x: ws.get(`x.${L}`), idx: eos, out: ws.get('pooled') }, { b: B, t: ws.S, d: D });
    encodeLayerNormForward(dev, pass, { x: ws.get('pooled'), gamma: this.w('final.w'), beta: this.w('final.b'), y: ws.get('hf'), mean: ws.get('mf'), rstd: ws.get('rf') }, { rows: B, d: D, eps });
    encodeLinearForward(dev, pass, { x: ws.get('hf'), w: this.w('projection'), y: ws.get('feat') }, { n: B, inDim: D, outDim: E });
  }

  /** d feat (in 'feat') → d x.L (in 'dX'). */
  private encodeHeadBackward(pass: GPUComputePassEncoder, ws: Workspace, B: number, eos: GPUBuffer): void {
    const dev = this.device;
    const { D, E } = this.config;
    encodeLinearBackward(dev, pass, { dy: ws.get('feat'), w: this.w('projection'), dx: ws.get('hf') }, { n: B, inDim: D, outDim: E });
    encodeLayerNormBackward(
      dev,
      pass,
      { dy: ws.get('hf'), x: ws.get('pooled'), gamma: this.w('final.w'), mean: ws.get('mf'), rstd: ws.get('rf'), dx: ws.get('dPooled') },
      { rows: B, d: D },
    );
    encodeGatherRowsBackward(dev, pass, { dOut: ws.get('dPooled'), idx: eos, dx: ws.get('dX') }, { b: B, t: ws.S, d: D });
  }

  // ---- public --------------------------------------------------------------------------------

  async step(input: StepInput): Promise<StepResult> {
    if (this.busy) throw new Error('text engine: step() called while another step or encode is running');
    this.busy = true;
    try {
      return await this.runStep(input);
    } finally {
      this.busy = false;
    }
  }

  private async runStep(input: StepInput): Promise<StepResult> {
    const dev = this.device;
    const { D, E, V } = this.config;
    const K = input.tokenIds.length;
    const perClass = input.csc ? K : 1;
    const M = input.ctx.length / D / perClass;
    if (!Number.isInteger(M) || M < 1) {
      throw new Error(`text engine: ctx has ${input.ctx.length} values, not a multiple of ${input.csc ? `K·D = ${K}·${D}` : `D = ${D}`}`);
    }
    const mode = input.mode ?? this.mode;
    const layout = promptLayout({ tokenIds: input.tokenIds, nameLens: input.nameLens, nCtx: M, csc: input.csc, position: input.position }, V);
    const img = flattenRows(input.imageFeatures, E);
    const N = img.length / E;
    if (input.labels.length !== N) throw new Error(`text engine: ${N} image features but ${input.labels.length} labels`);
    for (const y of Array.from(input.labels)) if (!(y >= 0 && y < K && Number.isInteger(y))) throw new Error(`text engine: label ${y} is not a class index in 0..${K - 1}`);

    const tg = input.textGrad;
    if (tg && tg.add.length !== K * E) throw new Error(`text engine: textGrad has ${tg.add.length} values, expected K·E = ${K}·${E}`);
    const deepIn = input.deep ?? [];
    const hostLoss = input.featureLoss !== undefined || input.forwardOnly === true;
    if (deepIn.length && input.secondGrad) throw new Error('text engine: deep tokens with a second upstream gradient are not supported (their gradients would mix)');
    if (hostLoss && (tg || input.secondGrad)) throw new Error('text engine: a feature loss (or forward only) replaces the loss stage; textGrad and secondGrad do not apply');
    const Ms = checkDeepTokens(deepIn, this.config.L, D, K);
    const minEos = Math.min(...Array.from(layout.eos));
    Ms.forEach((m, i) => {
      if (1 + m > minEos) throw new Error(`text engine: deep tokens for block ${deepIn[i].block}: ${m} tokens from position 1 reach a prompt's EOS at ${minEos}`);
    });
    const ls = this.prepareLayout(layout, mode, towerPrefixCap(deepIn));
    const bs = this.prepareBatch(N, K, input.ctx.length);
    const { T, P } = ls.shape;
    const S = T - P;
    const bufs = (name: string) => (ls.bufs.get(name) ?? bs.bufs.get(name))!;
    const q = dev.queue;
    q.writeBuffer(this.w('table'), V * D * 4, bytesOf(input.ctx));
    q.writeBuffer(bufs('image'), 0, bytesOf(img));
    q.writeBuffer(bufs('labels'), 0, Uint32Array.from(input.labels));
    const mb = tg ? this.methodBuffers(K * E) : undefined;
    if (tg && mb) q.writeBuffer(mb.add, 0, bytesOf(tg.add));
    const sg = input.secondGrad;
    const sb = sg ? this.secondBuffers(K * E, layout.ctxRows * D, N * K, P * D) : undefined;
    const de = this.deepBuffers(deepIn, Ms);
    const deepRun = (r0: number, offset: number): DeepRun | undefined => (de.length ? { entries: de, r0, offset } : undefined);

    let raw = dev.createCommandEncoder({ label: 'coop step' });
    let submits = 0;
    let dispatches = 0;
    let copies = 0;
    const stopCounting = onDispatch(dev, () => dispatches++);
    // Copies and clears counted as they are encoded (the per-step report of issue 14).
    const enc = {
      beginComputePass: (d?: GPUComputePassDescriptor) => raw.beginComputePass(d),
      clearBuffer: (b: GPUBuffer) => (copies++, raw.clearBuffer(b)),
      copyBufferToBuffer: (a: GPUBuffer, ao: number, b: GPUBuffer, bo: number, n: number) => (copies++, raw.copyBufferToBuffer(a, ao, b, bo, n)),
      finish: () => raw.finish(),
    };
    const pre = ls.prefix;
    const ws = ls.chunk;
    const dKs = Array.from({ length: this.config.L }, (_, l) => bufs(`prefix.dK.${l}`));
    const dVs = Array.from({ length: this.config.L }, (_, l) => bufs(`prefix.dV.${l}`));
    const ctxRows = layout.ctxRows;
    enc.clearBuffer(bufs('dCtx'));
    for (const e of de) enc.clearBuffer(e.grad);
    if (sb) {
      enc.clearBuffer(sb.dCtx);
      if (pre) for (const b of [...sb.dK, ...sb.dV]) enc.clearBuffer(b);
    }
    if (pre) {
      for (const b of [...dKs, ...dVs, pre.get('dX')]) enc.clearBuffer(b);
      const pass = enc.beginComputePass({ label: 'prefix forward' });
      this.encodeRunForward(pass, pre, 1, bufs('prefix.rows'), 0, undefined, deepRun(0, 0));
      pass.end();
    }
    const starts: number[] = [];
    ls.sizes.reduce((k0, c) => (starts.push(k0), k0 + c), 0);
    const forwardChunk = (i: number) => {
      const pass = enc.beginComputePass({ label: `chunk ${i} forward` });
      this.encodeRunForward(pass, ws, ls.sizes[i], bufs(`rows.${i}`), P, pre, deepRun(starts[i], P));
      this.encodeHeadForward(pass, ws, ls.sizes[i], bufs(`eos.${i}`));
      pass.end();
    };
    ls.sizes.forEach((c, i) => {
      forwardChunk(i);
      enc.copyBufferToBuffer(ws.get('feat'), 0, bufs('features'), starts[i] * E * 4, c * E * 4);
    });
    let hostFeatures: Float32Array | undefined;
    let hostResult: ReturnType<FeatureLoss> | undefined;
    if (hostLoss) {
      // The host forms the loss from the rows' normalized features: they come back (R·E floats) while every
      // activation stays on the GPU, and the host's gradient goes through the same backward below.
      const fr = this.methodBuffers(K * E);
      let pass = enc.beginComputePass({ label: 'text features' });
      encodeL2NormalizeForward(dev, pass, { x: bufs('features'), y: bufs('textFeatures') }, { rows: K, d: E });
      pass.end();
      enc.copyBufferToBuffer(bufs('textFeatures'), 0, fr.readback, 0, K * E * 4);
      q.submit([enc.finish()]);
      submits++;
      await fr.readback.mapAsync(MAP_READ, 0, K * E * 4);
      hostFeatures = new Float32Array(fr.readback.getMappedRange(0, K * E * 4).slice(0));
      fr.readback.unmap();
      if (!input.featureLoss) {
        stopCounting();
        const stats: StepStats = { mode, positions: P + K * S, recomputedPositions: 0, T, prefix: P, chunks: ls.sizes.length, dispatches, copies, submits, readbackBytes: K * E * 4 };
        this.lastStats = stats;
        return { loss: 0, logits: new Float32Array(0), gradCtx: new Float32Array(0), stats, textFeatures: hostFeatures };
      }
      try {
        hostResult = input.featureLoss(hostFeatures);
      } catch (e) {
        stopCounting();
        throw e;
      }
      if (hostResult.dTxt.length !== K * E) throw new Error(`text engine: the feature loss gave ${hostResult.dTxt.length} gradient values, expected R·E = ${K}·${E}`);
      q.writeBuffer(bufs('dTextFeatures'), 0, bytesOf(Float32Array.from(hostResult.dTxt)));
      raw = dev.createCommandEncoder({ label: 'tower step (backward)' });
      pass = enc.beginComputePass({ label: 'feature loss backward' });
      encodeL2NormalizeBackward(dev, pass, { dy: bufs('dTextFeatures'), x: bufs('features'), dx: bufs('dFeatures') }, { rows: K, d: E });
      pass.end();
    }
    if (tg?.replace) enc.clearBuffer(bufs('dTextFeatures'));
    if (!hostLoss) {
      const pass = enc.beginComputePass({ label: 'loss' });
      const dims = { n: N, k: K, e: E, scale: input.logitScale };
      encodeL2NormalizeForward(dev, pass, { x: bufs('features'), y: bufs('textFeatures') }, { rows: K, d: E });
      encodeCosineCEForward(
        dev,
        pass,
        { img: bufs('image'), txt: bufs('textFeatures'), labels: bufs('labels'), logits: bufs('logits'), lse: bufs('lse'), rowLoss: bufs('rowLoss'), loss: bufs('loss') },
        dims,
      );
      if (!tg?.replace) {
        encodeCosineCEBackward(
          dev,
          pass,
          { img: bufs('image'), logits: bufs('logits'), lse: bufs('lse'), labels: bufs('labels'), dLogits: bufs('dLogits'), dTxt: bufs('dTextFeatures') },
          dims,
        );
      }
      // The method's term joins the CE's gradient here, so one backward serves both.
      if (mb) encodeAddInPlace(dev, pass, { a: bufs('dTextFeatures'), b: mb.add }, K * E);
      encodeL2NormalizeBackward(dev, pass, { dy: bufs('dTextFeatures'), x: bufs('features'), dx: bufs('dFeatures') }, { rows: K, d: E });
      pass.end();
    }
    if (sg && sb) {
      // The second upstream gradient needs this forward's logits: they come back (N·K floats) while every
      // activation stays on the GPU, then both gradients run through the one backward below.
      enc.copyBufferToBuffer(bufs('logits'), 0, sb.logitsReadback, 0, N * K * 4);
      q.submit([enc.finish()]);
      submits++;
      await sb.logitsReadback.mapAsync(MAP_READ, 0, N * K * 4);
      const logits = new Float32Array(sb.logitsReadback.getMappedRange(0, N * K * 4).slice(0));
      sb.logitsReadback.unmap();
      let g2: TextFeatureGrad;
      try {
        g2 = sg(logits);
      } catch (e) {
        stopCounting();
        throw e;
      }
      if (g2.add.length !== K * E) throw new Error(`text engine: the second text gradient has ${g2.add.length} values, expected K·E = ${K}·${E}`);
      q.writeBuffer(sb.add, 0, bytesOf(g2.add));
      raw = dev.createCommandEncoder({ label: 'coop step (backward)' });
      if (g2.replace) enc.clearBuffer(sb.dText);
      const pass = enc.beginComputePass({ label: 'loss (second gradient)' });
      if (!g2.replace) {
        encodeCosineCEBackward(
          dev,
          pass,
          { img: bufs('image'), logits: bufs('logits'), lse: bufs('lse'), labels: bufs('labels'), dLogits: bufs('dLogits'), dTxt: sb.dText },
          { n: N, k: K, e: E, scale: input.logitScale },
        );
      }
      encodeAddInPlace(dev, pass, { a: sb.dText, b: sb.add }, K * E);
      encodeL2NormalizeBackward(dev, pass, { dy: sb.dText, x: bufs('features'), dx: sb.dFeatures }, { rows: K, d: E });
      pass.end();
    }
    // One backward for each upstream gradient, through the same activations: [d features, d ctx, prefix dK/dV].
    const grads = [{ dFeatures: bufs('dFeatures'), dCtx: bufs('dCtx'), dK: dKs, dV: dVs }, ...(sb ? [{ dFeatures: sb.dFeatures, dCtx: sb.dCtx, dK: sb.dK, dV: sb.dV }] : [])];
    // The last chunk still holds its activations: backward starts there.
    const order = ls.sizes.map((_, i) => ls.sizes.length - 1 - i);
    let recomputed = 0;
    for (const i of order) {
      const c = ls.sizes[i];
      if (i !== ls.sizes.length - 1) {
        forwardChunk(i);
        recomputed += c * S;
      }
      // The backward kernels read the chunk's activations and write only gradient scratch, so a second
      // upstream gradient runs through them right after the first, with nothing recomputed.
      grads.forEach((g, j) => {
        enc.copyBufferToBuffer(g.dFeatures, starts[i] * E * 4, ws.get('feat'), 0, c * E * 4);
        const pass = enc.beginComputePass({ label: `chunk ${i} backward${j ? ' (second gradient)' : ''}` });
        this.encodeHeadBackward(pass, ws, c, bufs(`eos.${i}`));
        this.encodeLayersBackward(pass, ws, c, pre, pre ? { dK: g.dK, dV: g.dV } : undefined, undefined, deepRun(starts[i], P));
        if (ls.shape.suffixHasCtx) {
          if (layout.csc) {
            encodeMatmul(dev, pass, { a: bufs(`sel.${i}`), b: ws.get('dX'), c: ws.get('dCtx') }, { m: M, n: D, k: S, batch: c, strideA: M * S, strideB: S * D, strideC: M * D });
          } else {
            encodeMatmul(dev, pass, { a: bufs(`sel.${i}`), b: ws.get('dX'), c: g.dCtx }, { m: M, n: D, k: c * S, accumulate: true });
          }
        }
        pass.end();
        if (ls.shape.suffixHasCtx && layout.csc) enc.copyBufferToBuffer(ws.get('dCtx'), 0, g.dCtx, starts[i] * M * D * 4, c * M * D * 4);
      });
    }
    if (pre) {
      grads.forEach((g, j) => {
        if (j > 0) enc.clearBuffer(pre.get('dX'));
        const pass = enc.beginComputePass({ label: `prefix backward${j ? ' (second gradient)' : ''}` });
        this.encodeLayersBackward(pass, pre, 1, undefined, undefined, { dK: g.dK, dV: g.dV }, deepRun(0, 0));
        if (ls.shape.prefixHasCtx) {
          encodeMatmul(dev, pass, { a: bufs('prefix.sel'), b: pre.get('dX'), c: g.dCtx }, { m: ctxRows, n: D, k: P, accumulate: true });
        }
        pass.end();
      });
    }
    const rb = bufs('readback');
    enc.copyBufferToBuffer(bufs('loss'), 0, rb, 0, 4);
    if (N > 0) enc.copyBufferToBuffer(bufs('logits'), 0, rb, 4, N * K * 4);
    enc.copyBufferToBuffer(bufs('dCtx'), 0, rb, 4 + N * K * 4, ctxRows * D * 4);
    if (mb) enc.copyBufferToBuffer(bufs('textFeatures'), 0, mb.readback, 0, K * E * 4);
    if (sb) enc.copyBufferToBuffer(sb.dCtx, 0, sb.readback, 0, ctxRows * D * 4);
    const deepFloats = de.reduce((n, e) => n + e.grad.size / 4, 0);
    const deepRb = de.length ? this.allocator.create(deepFloats * 4, { usage: MAP_READ | COPY_DST, label: 'deep.readback' }) : undefined;
    if (deepRb) de.reduce((off, e) => (enc.copyBufferToBuffer(e.grad, 0, deepRb, off, e.grad.size), off + e.grad.size), 0);
    stopCounting();
    q.submit([enc.finish()]);
    submits++;
    const readbackBytes = (1 + N * K + ctxRows * D) * 4;
    await rb.mapAsync(MAP_READ, 0, readbackBytes);
    const all = new Float32Array(rb.getMappedRange(0, (1 + N * K + ctxRows * D) * 4).slice(0));
    rb.unmap();
    let textFeatures: Float32Array | undefined;
    if (mb) {
      await mb.readback.mapAsync(MAP_READ, 0, K * E * 4);
      textFeatures = new Float32Array(mb.readback.getMappedRange(0, K * E * 4).slice(0));
      mb.readback.unmap();
    }
    let gradCtx2: Float32Array | undefined;
    if (sb) {
      await sb.readback.mapAsync(MAP_READ, 0, ctxRows * D * 4);
      gradCtx2 = new Float32Array(sb.readback.getMappedRange(0, ctxRows * D * 4).slice(0));
      sb.readback.unmap();
    }

    let gradDeep: Float32Array[] | undefined;
    if (deepRb) {
      await deepRb.mapAsync(MAP_READ, 0, deepFloats * 4);
      const all = new Float32Array(deepRb.getMappedRange(0, deepFloats * 4).slice(0));
      deepRb.unmap();
      this.allocator.destroy(deepRb);
      let off = 0;
      gradDeep = de.map((e) => all.slice(off, (off += e.grad.size / 4)));
    }
    const extraBytes = (mb ? K * E * 4 : 0) + (sb ? (N * K + ctxRows * D) * 4 : 0) + (hostFeatures ? K * E * 4 : 0) + deepFloats * 4;
    const stats: StepStats = { mode, positions: P + K * S, recomputedPositions: recomputed, T, prefix: P, chunks: ls.sizes.length, dispatches, copies, submits, readbackBytes: readbackBytes + extraBytes };
    this.lastStats = stats;
    this.lastPlan = [...weightBuffers(this.shape, ctxRows), ...ls.planned, ...bs.planned];
    if (hostResult) {
      const logits = hostResult.logits ?? new Float32Array(0);
      return { loss: hostResult.loss, logits, gradCtx: all.subarray(1 + N * K), stats, textFeatures: hostFeatures, ...(gradDeep ? { gradDeep } : {}) };
    }
    return { loss: all[0], logits: all.subarray(1, 1 + N * K), gradCtx: all.subarray(1 + N * K), stats, textFeatures, ...(gradCtx2 ? { gradCtx2 } : {}), ...(gradDeep ? { gradDeep } : {}) };
  }

  private secondBuffers(kE: number, ctxFloats: number, nK: number, pD: number): SecondBufs {
    const key = `${kE}|${ctxFloats}|${nK}|${pD}`;
    if (this.secondBufs?.key !== key) {
      if (this.secondBufs) for (const b of secondBufList(this.secondBufs)) this.allocator.destroy(b);
      const f = (n: number, label: string, read = false) => this.allocator.create(Math.max(4, n * 4), { usage: read ? MAP_READ | COPY_DST : undefined, label });
      const L = this.config.L;
      this.secondBufs = {
        key,
        add: f(kE, 'second.textGrad'),
        dText: f(kE, 'second.dTextFeatures'),
        dFeatures: f(kE, 'second.dFeatures'),
        dCtx: f(ctxFloats, 'second.dCtx'),
        dK: pD ? Array.from({ length: L }, (_, l) => f(pD, `second.prefix.dK.${l}`)) : [],
        dV: pD ? Array.from({ length: L }, (_, l) => f(pD, `second.prefix.dV.${l}`)) : [],
        logitsReadback: f(nK, 'second.logitsReadback', true),
        readback: f(ctxFloats, 'second.readback', true),
      };
    }
    return this.secondBufs;
  }

  /** A step's deep-token buffers, kept while the shapes stay; the tokens are uploaded every step. */
  private deepBuffers(deep: readonly DeepTokens[], Ms: readonly number[]): DeepEntry[] {
    const key = deep.map((d, i) => `${d.block}:${Ms[i]}:${d.perRow}:${d.tokens.length}`).join('|');
    if (this.deepBufs?.key !== key) {
      for (const e of this.deepBufs?.entries ?? []) {
        this.allocator.destroy(e.tokens);
        this.allocator.destroy(e.grad);
      }
      this.deepBufs = {
        key,
        entries: deep.map((d, i) => ({
          block: d.block,
          m: Ms[i],
          perRow: d.perRow,
          tokens: this.allocator.create(d.tokens.length * 4, { label: `deep.${d.block}.tokens` }),
          grad: this.allocator.create(d.tokens.length * 4, { label: `deep.${d.block}.grad` }),
        })),
      };
    }
    deep.forEach((d, i) => this.device.queue.writeBuffer(this.deepBufs!.entries[i].tokens, 0, bytesOf(toF32(d.tokens))));
    return this.deepBufs.entries;
  }

  private methodBuffers(n: number): { add: GPUBuffer; readback: GPUBuffer } {
    if (this.methodBufs?.n !== n) {
      if (this.methodBufs) {
        this.allocator.destroy(this.methodBufs.add);
        this.allocator.destroy(this.methodBufs.readback);
      }
      this.methodBufs = {
        n,
        add: this.allocator.create(n * 4, { label: 'method.textGrad' }),
        readback: this.allocator.create(n * 4, { usage: MAP_READ | COPY_DST, label: 'method.readback' }),
      };
    }
    return this.methodBufs;
  }

  async encodeTokens(ids: Int32Array | ArrayLike<number>[], batch?: number): Promise<Float32Array> {
    if (this.busy) throw new Error('text engine: encodeTokens() called while a step is running');
    this.busy = true;
    const own: Bufs = new Map();
    try {
      const { D, E, V } = this.config;
      const flat = ids instanceof Int32Array ? ids : Int32Array.from((ids as ArrayLike<number>[]).flatMap((r) => Array.from(r)));
      const B = batch ?? (ids instanceof Int32Array ? 1 : (ids as ArrayLike<number>[]).length);
      const Tin = flat.length / B;
      if (!Number.isInteger(Tin) || Tin > this.config.P) throw new Error(`text engine: ${flat.length} ids do not form ${B} rows of at most ${this.config.P}`);
      const eos = Array.from({ length: B }, (_, b) => eosIndex(flat.subarray(b * Tin, (b + 1) * Tin)));
      for (const id of flat) if (id < 0 || id >= V) throw new Error(`text engine: token id ${id} outside the vocabulary (${V})`);
      // Cut at the last EOS: positions after it cannot reach any EOS feature under the causal mask.
      const S = Math.max(...eos) + 1;
      const sizes = chunkSizes(B, this.chunkFor(S, 0));
      const list = [
        ...workspaceBuffers(this.shape, { B: sizes[0], S, P: 0, head: true }, 'e.'),
        ...sizes.flatMap((c, i) => [
          { name: `erows.${i}`, bytes: c * S * 4, group: 'step' as const },
          { name: `eeos.${i}`, bytes: c * 4, group: 'step' as const },
        ]),
        { name: 'efeatures', bytes: B * E * 4, group: 'step' as const },
        { name: 'ereadback', bytes: B * E * 4, group: 'readback' as const },
      ];
      this.allocate(list, own);
      const ws = new Workspace(own, 'e.', sizes[0], S, 0);
      const enc = this.device.createCommandEncoder({ label: 'encode tokens' });
      let b0 = 0;
      sizes.forEach((c, i) => {
        const rows = new Uint32Array(c * S);
        for (let j = 0; j < c; j++) rows.set(flat.subarray((b0 + j) * Tin, (b0 + j) * Tin + S), j * S);
        this.device.queue.writeBuffer(own.get(`erows.${i}`)!, 0, rows);
        this.device.queue.writeBuffer(own.get(`eeos.${i}`)!, 0, Uint32Array.from(eos.slice(b0, b0 + c)));
        const pass = enc.beginComputePass({ label: `encode chunk ${i}` });
        this.encodeRunForward(pass, ws, c, own.get(`erows.${i}`)!, 0);
        this.encodeHeadForward(pass, ws, c, own.get(`eeos.${i}`)!);
        pass.end();
        enc.copyBufferToBuffer(ws.get('feat'), 0, own.get('efeatures')!, b0 * E * 4, c * E * 4);
        b0 += c;
      });
      const rb = own.get('ereadback')!;
      enc.copyBufferToBuffer(own.get('efeatures')!, 0, rb, 0, B * E * 4);
      this.device.queue.submit([enc.finish()]);
      await rb.mapAsync(MAP_READ);
      const out = new Float32Array(rb.getMappedRange().slice(0, B * E * 4));
      rb.unmap();
      void D;
      return out;
    } finally {
      this.free(own);
      this.busy = false;
    }
  }

  destroy(): void {
    this.allocator.destroyAll();
    this.methodBufs = undefined;
    this.secondBufs = undefined;
    this.deepBufs = undefined;
    this.weightBufs.clear();
    this.layoutState = undefined;
    this.batchState = undefined;
  }
}

interface SecondBufs {
  key: string;
  add: GPUBuffer;
  dText: GPUBuffer;
  dFeatures: GPUBuffer;
  dCtx: GPUBuffer;
  dK: GPUBuffer[];
  dV: GPUBuffer[];
  logitsReadback: GPUBuffer;
  readback: GPUBuffer;
}

function secondBufList(b: SecondBufs): GPUBuffer[] {
  return [b.add, b.dText, b.dFeatures, b.dCtx, ...b.dK, ...b.dV, b.logitsReadback, b.readback];
}

function flattenRows(x: Float32Array | ArrayLike<number>[], E: number): Float32Array {
  if (x instanceof Float32Array) {
    if (x.length % E !== 0) throw new Error(`text engine: image features have ${x.length} values, not a multiple of E = ${E}`);
    return x;
  }
  const rows = x as ArrayLike<number>[];
  const out = new Float32Array(rows.length * E);
  rows.forEach((r, i) => {
    if (r.length !== E) throw new Error(`text engine: image feature ${i} has ${r.length} values, expected ${E}`);
    out.set(Array.from(r), i * E);
  });
  return out;
}
