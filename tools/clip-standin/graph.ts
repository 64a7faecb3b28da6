/**
 * Builds CLIP's two towers as optimum exports them (opset 14: layer norms decomposed into ReduceMean/Sub/
 * Pow/Sqrt/Div, each linear a MatMul on an anonymous, transposed `onnx::MatMul_*` initializer whose output
 * is added to the named bias), in fp32 or as transformers.js's fp16 files (half-precision initializers, each
 * cast up to float by a Cast node before use).
 */
import { floatToHalf } from '../../src/engine/model/half';
import { DataType, modelMsg, type AttrValue, type Msg, type NodeSpec, type TensorSpec, type ValueSpec } from './onnx-proto';

/**
 * `fp16`: half-precision initializers, each cast up to float by a Cast node, compute in float (what the
 * published files do where an op is kept in float). `fp16-compute`: half-precision initializers used as
 * they are, activations in half, Casts only at the graph's float inputs and outputs (onnxconverter's
 * keep_io_types): the converter's default for every op it does not block.
 */
export type Precision = 'fp32' | 'fp16' | 'fp16-compute';

/** Draws each named tensor once (seeded), so the fp32 and fp16 files hold the same weights. */
export class Weights {
  private readonly made = new Map<string, Float32Array>();
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** mulberry32: tiny, seedable, fast enough for 150 M draws in about a second. */
  private next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform values with mean `mean` and standard deviation `std`. */
  get(key: string, n: number, std: number, mean = 0): Float32Array {
    let a = this.made.get(key);
    if (a) return a;
    a = new Float32Array(n);
    const half = std * Math.sqrt(3);
    for (let i = 0; i < n; i++) a[i] = mean + (2 * this.next() - 1) * half;
    this.made.set(key, a);
    return a;
  }

  set(key: string, a: Float32Array): Float32Array {
    this.made.set(key, a);
    return a;
  }

  clear(): void {
    this.made.clear();
  }
}

export class GraphBuilder {
  readonly nodes: NodeSpec[] = [];
  readonly initializers: TensorSpec[] = [];
  private readonly used = new Set<string>();
  private readonly consts = new Map<string, string>();
  private anon = 0;

  constructor(
    readonly precision: Precision,
    /** Where anonymous weight numbers start, as torch.onnx numbers them after the named parameters. */
    anonStart: number,
  ) {
    this.anon = anonStart;
  }

  private unique(name: string): string {
    let n = name;
    for (let i = 1; this.used.has(n); i++) n = `${name}_${i}`;
    this.used.add(n);
    return n;
  }

  /**
   * A node; its output is `${name}_output_0` unless `out` names it (a graph output, which in an fp16-compute
   * graph is the half value cast back to float).
   */
  op(op: string, inputs: string[], path: string, attrs?: Record<string, AttrValue>, out?: string): string {
    const name = this.unique(`${path}/${op}`);
    const half = out !== undefined && this.precision === 'fp16-compute';
    const output = out === undefined ? `${name}_output_0` : half ? `${out}_fp16` : out;
    this.nodes.push({ op, inputs, outputs: [output], name, attrs });
    if (!half) return output;
    this.nodes.push({ op: 'Cast', inputs: [output], outputs: [out], name: this.unique(`/Cast_${out}/Cast`), attrs: { to: DataType.FLOAT } });
    return out;
  }

  /** A float graph input as the graph computes with it: cast to half in an fp16-compute graph. */
  floatInput(name: string): string {
    return this.precision === 'fp16-compute' ? this.op('Cast', [name], `/Cast_${name}`, { to: DataType.FLOAT16 }) : name;
  }

  /** A float weight; in an fp16 file stored as half precision and cast up to float where used. */
  weight(name: string, dims: number[], data: Float32Array): string {
    if (this.precision === 'fp32') {
      this.initializers.push({ name, dims, float: data });
      return name;
    }
    this.initializers.push({ name, dims, half: floatToHalf(data) });
    if (this.precision === 'fp16-compute') return name;
    return this.op('Cast', [name], `/Cast_${name}`, { to: DataType.FLOAT }, `${name}_float`);
  }

  /** A transposed linear weight [in, out] under an anonymous name, as torch.onnx exports nn.Linear. */
  anonWeight(dims: number[], data: Float32Array): string {
    return this.weight(`onnx::MatMul_${this.anon++}`, dims, data);
  }

  /** Small constants (eps, the attention scale) stay float32 where the graph computes in float. */
  scalar(v: number): string {
    const key = `f:${v}`;
    let name = this.consts.get(key);
    if (!name) {
      name = `/Constant_${this.consts.size}_output_0`;
      const data = Float32Array.of(v);
      this.initializers.push(this.precision === 'fp16-compute' ? { name, dims: [], half: floatToHalf(data) } : { name, dims: [], float: data });
      this.consts.set(key, name);
    }
    return name;
  }

  ints(values: number[], scalar = false): string {
    const key = `i:${scalar}:${values.join(',')}`;
    let name = this.consts.get(key);
    if (!name) {
      name = `/Constant_${this.consts.size}_output_0`;
      this.initializers.push({ name, dims: scalar ? [] : [values.length], int64: values });
      this.consts.set(key, name);
    }
    return name;
  }

  build(inputs: ValueSpec[], outputs: ValueSpec[], graphName: string): Msg {
    return modelMsg({
      graphName,
      nodes: this.nodes,
      initializers: this.initializers,
      inputs,
      outputs,
      producer: 'clip-standin (tools/clip-standin, this repository)',
      opset: 14,
      irVersion: 8,
    });
  }
}

export interface EncoderShape {
  width: number;
  layers: number;
  heads: number;
  intermediate: number;
  eps: number;
}

/** LayerNorm as opset-14 exports decompose it; weight and bias named `${prefix}.weight|bias`. */
export function layerNorm(g: GraphBuilder, w: Weights, x: string, prefix: string, path: string, D: number, eps: number): string {
  const mean = g.op('ReduceMean', [x], path, { axes: [-1], keepdims: 1 });
  const d = g.op('Sub', [x, mean], path);
  const sq = g.op('Pow', [d, g.scalar(2)], path);
  const variance = g.op('ReduceMean', [sq], path, { axes: [-1], keepdims: 1 });
  const sd = g.op('Sqrt', [g.op('Add', [variance, g.scalar(eps)], path)], path);
  const n = g.op('Div', [d, sd], path);
  // Weights near 1 and biases near 0, but not exactly: a reader that swapped or skipped them must fail the proof.
  const weight = g.weight(`${prefix}.weight`, [D], w.get(`${prefix}.weight`, D, 0.05, 1));
  const bias = g.weight(`${prefix}.bias`, [D], w.get(`${prefix}.bias`, D, 0.02));
  return g.op('Add', [g.op('Mul', [n, weight], path), bias], path);
}

/** A linear layer: MatMul on the anonymous [in, out] weight, then Add with the named bias (bias first, as exported). */
export function linear(g: GraphBuilder, w: Weights, x: string, prefix: string, path: string, inDim: number, outDim: number, gain = 1): string {
  const weight = g.anonWeight([inDim, outDim], w.get(`${prefix}.weight`, inDim * outDim, gain / Math.sqrt(inDim)));
  const mm = g.op('MatMul', [x, weight], path);
  const bias = g.weight(`${prefix}.bias`, [outDim], w.get(`${prefix}.bias`, outDim, 0.02));
  return g.op('Add', [bias, mm], path);
}

/** One pre-LN transformer block (CLIPEncoderLayer); `mask` [S,S] is added to the scores when given. */
export function encoderLayer(g: GraphBuilder, w: Weights, x: string, prefix: string, path: string, s: EncoderShape, mask?: string): string {
  const { width: D, heads: H, intermediate: F, eps } = s;
  const dh = D / H;
  const h1 = layerNorm(g, w, x, `${prefix}.layer_norm1`, `${path}/layer_norm1`, D, eps);
  const ap = `${path}/self_attn`;
  const heads = (t: string, p: string) => g.op('Reshape', [t, g.ints([0, 0, H, dh])], p);
  // Residual branches start smaller (gain < 1) so that twelve layers keep the stream's scale moderate.
  const q = g.op('Mul', [linear(g, w, h1, `${prefix}.self_attn.q_proj`, `${ap}/q_proj`, D, D), g.scalar(dh ** -0.5)], ap);
  const k = linear(g, w, h1, `${prefix}.self_attn.k_proj`, `${ap}/k_proj`, D, D);
  const v = linear(g, w, h1, `${prefix}.self_attn.v_proj`, `${ap}/v_proj`, D, D);
  const qh = g.op('Transpose', [heads(q, ap)], ap, { perm: [0, 2, 1, 3] });
  const kt = g.op('Transpose', [heads(k, ap)], ap, { perm: [0, 2, 3, 1] });
  const vh = g.op('Transpose', [heads(v, ap)], ap, { perm: [0, 2, 1, 3] });
  let scores = g.op('MatMul', [qh, kt], ap);
  if (mask) scores = g.op('Add', [scores, mask], ap);
  const probs = g.op('Softmax', [scores], ap, { axis: -1 });
  const ctx = g.op('Transpose', [g.op('MatMul', [probs, vh], ap)], ap, { perm: [0, 2, 1, 3] });
  const merged = g.op('Reshape', [ctx, g.ints([0, 0, D])], ap);
  const attn = linear(g, w, merged, `${prefix}.self_attn.out_proj`, `${ap}/out_proj`, D, D, 0.5);
  const r1 = g.op('Add', [x, attn], path);
  const h2 = layerNorm(g, w, r1, `${prefix}.layer_norm2`, `${path}/layer_norm2`, D, eps);
  const f1 = linear(g, w, h2, `${prefix}.mlp.fc1`, `${path}/mlp/fc1`, D, F);
  // QuickGELU, as CLIP's hidden_act "quick_gelu": x · sigmoid(1.702 x).
  const act = g.op('Mul', [f1, g.op('Sigmoid', [g.op('Mul', [f1, g.scalar(1.702)], `${path}/mlp/activation_fn`)], `${path}/mlp/activation_fn`)], `${path}/mlp/activation_fn`);
  const f2 = linear(g, w, act, `${prefix}.mlp.fc2`, `${path}/mlp/fc2`, F, D, 0.5);
  return g.op('Add', [r1, f2], path);
}

export interface TextShape extends EncoderShape {
  vocab: number;
  positions: number;
  projection: number;
}

/** CLIPTextModelWithProjection: input_ids int64 [batch, sequence] → text_embeds [batch, E], last_hidden_state. */
export function textTower(precision: Precision, w: Weights, s: TextShape): Msg {
  const g = new GraphBuilder(precision, 4000);
  const { width: D, vocab: V, positions: P } = s;
  const ids = 'input_ids';
  const tok = g.weight('text_model.embeddings.token_embedding.weight', [V, D], w.get('text.tok', V * D, 0.02));
  const pos = g.weight('text_model.embeddings.position_embedding.weight', [P, D], w.get('text.pos', P * D, 0.01));
  const shape = g.op('Shape', [ids], '/text_model/embeddings');
  const seq1 = g.op('Slice', [shape, g.ints([1]), g.ints([2]), g.ints([0])], '/text_model/embeddings');
  const posRows = g.op('Slice', [pos, g.ints([0]), seq1, g.ints([0])], '/text_model/embeddings');
  let x = g.op('Add', [g.op('Gather', [tok, ids], '/text_model/embeddings/token_embedding', { axis: 0 }), posRows], '/text_model/embeddings');
  // Causal mask: a [P, P] table of 0 (allowed) and the most negative half (future positions), cut to [S, S].
  const table = new Float32Array(P * P);
  for (let i = 0; i < P; i++) for (let j = i + 1; j < P; j++) table[i * P + j] = -65504;
  const maskTable = g.weight('text_model.causal_mask', [P, P], w.set('text.mask', table));
  const ends = g.op('Concat', [seq1, seq1], '/text_model', { axis: 0 });
  const mask = g.op('Slice', [maskTable, g.ints([0, 0]), ends, g.ints([0, 1])], '/text_model');
  for (let l = 0; l < s.layers; l++) {
    x = encoderLayer(g, w, x, `text_model.encoder.layers.${l}`, `/text_model/encoder/layers.${l}`, s, mask);
  }
  const last = layerNorm(g, w, x, 'text_model.final_layer_norm', '/text_model/final_layer_norm', D, s.eps);
  // CLIPTextTransformer's pooling: each row's feature at argmax(input_ids) (EOS, the largest id).
  g.op('Identity', [last], '/text_model', undefined, 'last_hidden_state');
  const eos = g.op('ArgMax', [ids], '/text_model', { axis: -1, keepdims: 0 });
  const batch = g.op('Gather', [shape, g.ints([0], true)], '/text_model', { axis: 0 });
  const seq = g.op('Gather', [shape, g.ints([1], true)], '/text_model', { axis: 0 });
  const rows = g.op('Range', [g.ints([0], true), batch, g.ints([1], true)], '/text_model');
  const flatIndex = g.op('Add', [g.op('Mul', [rows, seq], '/text_model'), eos], '/text_model');
  const flat = g.op('Reshape', [last, g.ints([-1, D])], '/text_model');
  const pooled = g.op('Gather', [flat, flatIndex], '/text_model', { axis: 0 });
  const proj = g.anonWeight([D, s.projection], w.get('text.projection', D * s.projection, 1 / Math.sqrt(D)));
  g.op('MatMul', [pooled, proj], '/text_projection', undefined, 'text_embeds');
  return g.build(
    [{ name: 'input_ids', elemType: DataType.INT64, dims: ['batch_size', 'sequence_length'] }],
    [
      { name: 'text_embeds', elemType: DataType.FLOAT, dims: ['batch_size', s.projection] },
      { name: 'last_hidden_state', elemType: DataType.FLOAT, dims: ['batch_size', 'sequence_length', D] },
    ],
    'main_graph',
  );
}

export interface VisionShape extends EncoderShape {
  imageSize: number;
  patch: number;
  projection: number;
}

/** CLIPVisionModelWithProjection: pixel_values float [batch, 3, H, W] → image_embeds [batch, E], last_hidden_state. */
export function visionTower(precision: Precision, w: Weights, s: VisionShape): Msg {
  const g = new GraphBuilder(precision, 3000);
  const { width: D, patch, imageSize } = s;
  const grid = imageSize / patch;
  const P = grid * grid + 1;
  const ep = '/vision_model/embeddings';
  const px = g.floatInput('pixel_values');
  const convW = g.weight('vision_model.embeddings.patch_embedding.weight', [D, 3, patch, patch], w.get('vision.patch', D * 3 * patch * patch, 1 / Math.sqrt(3 * patch * patch)));
  const conv = g.op('Conv', [px, convW], `${ep}/patch_embedding`, { kernel_shape: [patch, patch], strides: [patch, patch], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1 });
  const patches = g.op('Transpose', [g.op('Reshape', [conv, g.ints([0, D, -1])], ep)], ep, { perm: [0, 2, 1] });
  const cls = g.weight('vision_model.embeddings.class_embedding', [D], w.get('vision.cls', D, 0.5));
  const batch1 = g.op('Slice', [g.op('Shape', [px], ep), g.ints([0]), g.ints([1]), g.ints([0])], ep);
  const clsShape = g.op('Concat', [batch1, g.ints([1, D])], ep, { axis: 0 });
  const clsRows = g.op('Expand', [cls, clsShape], ep);
  const tokens = g.op('Concat', [clsRows, patches], ep, { axis: 1 });
  const pos = g.weight('vision_model.embeddings.position_embedding.weight', [P, D], w.get('vision.pos', P * D, 0.1));
  let x = g.op('Add', [tokens, pos], ep);
  x = layerNorm(g, w, x, 'vision_model.pre_layrnorm', '/vision_model/pre_layrnorm', D, s.eps);
  for (let l = 0; l < s.layers; l++) {
    x = encoderLayer(g, w, x, `vision_model.encoder.layers.${l}`, `/vision_model/encoder/layers.${l}`, s);
  }
  const last = g.op('Identity', [x], '/vision_model', undefined, 'last_hidden_state');
  const pooled = g.op('Gather', [last, g.ints([0], true)], '/vision_model', { axis: 1 });
  const post = layerNorm(g, w, pooled, 'vision_model.post_layernorm', '/vision_model/post_layernorm', D, s.eps);
  const proj = g.anonWeight([D, s.projection], w.get('vision.projection', D * s.projection, 1 / Math.sqrt(D)));
  g.op('MatMul', [post, proj], '/visual_projection', undefined, 'image_embeds');
  return g.build(
    [{ name: 'pixel_values', elemType: DataType.FLOAT, dims: ['batch_size', 3, imageSize, imageSize] }],
    [
      { name: 'image_embeds', elemType: DataType.FLOAT, dims: ['batch_size', s.projection] },
      { name: 'last_hidden_state', elemType: DataType.FLOAT, dims: ['batch_size', P, D] },
    ],
    'main_graph',
  );
}
