/**
 * CLIP's text tower weights, found in a text_model.onnx by graph structure.
 *
 * Exporters (torch.onnx, optimum) keep the names of biases, layer norms and embeddings but
 * store every linear weight as an anonymous, transposed `onnx::MatMul_*` initializer. What
 * identifies a weight is therefore the named bias its MatMul's output is added to, and the
 * projection is the MatMul applied to the pooled (EOS-gathered) final-layer-norm output.
 * Files that keep PyTorch names (`...q_proj.weight`, [out,in]) are read too.
 *
 * Every linear weight is returned as [in, out] (ONNX MatMul layout), which is what the
 * ops' linear kernels expect.
 */
import { bytesText, countText, LIMITS, TooLargeError } from '../../input-limits';
import type { Arr } from '../ops/tensor';
import { readOnnxModel, type OnnxGraph, type OnnxModel, type OnnxNode, type OnnxTensor } from './onnx-reader';

/** A config or an ONNX graph that is not a CLIP text tower this engine reads. */
export class TextTowerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TextTowerError';
  }
}

export interface TextConfig {
  /** hidden_size */
  D: number;
  /** num_hidden_layers */
  L: number;
  /** num_attention_heads */
  H: number;
  /** vocab_size */
  V: number;
  /** projection_dim (text_embeds width) */
  E: number;
  /** intermediate_size (4·D in CLIP) */
  F: number;
  /** max_position_embeddings (77) */
  P: number;
  eps: number;
}

export interface Linear {
  /** [in, out] */
  w: Arr;
  b: Arr;
}

export interface LayerNormWeights {
  weight: Arr;
  bias: Arr;
}

export interface TextLayerWeights {
  ln1: LayerNormWeights;
  q: Linear;
  k: Linear;
  v: Linear;
  out: Linear;
  ln2: LayerNormWeights;
  fc1: Linear;
  fc2: Linear;
}

export interface TextWeights {
  config: TextConfig;
  /** [V, D] */
  tokenEmbedding: Arr;
  /** [P, D] */
  positionEmbedding: Arr;
  layers: TextLayerWeights[];
  finalLn: LayerNormWeights;
  /** [D, E], no bias */
  projection: Arr;
}

/** Reads the text tower's shape from a transformers `config.json` (CLIPConfig or CLIPTextConfig). */
export function textConfigFromJson(json: unknown): TextConfig {
  const root = (json ?? {}) as Record<string, unknown>;
  const t = ((root.text_config as Record<string, unknown> | undefined) ?? root) as Record<string, unknown>;
  const num = (v: unknown, what: string, fallback?: number): number => {
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    if (fallback !== undefined) return fallback;
    throw new TextTowerError(`config.json: text_config.${what} is missing or not a number`);
  };
  // Sizes are checked before anything is sized from them: a config declaring 10^9 layers is refused, not looped over.
  const size = (v: unknown, what: string, max: number, fallback?: number): number => {
    const n = num(v, what, fallback);
    if (!Number.isInteger(n) || n < 1) throw new TextTowerError(`config.json: text_config.${what} is ${n}; it must be a whole number ≥ 1`);
    if (n > max) throw new TooLargeError(`config.json text_config.${what}`, countText(n), countText(max));
    return n;
  };
  const D = size(t.hidden_size, 'hidden_size', LIMITS.textWidth);
  const cfg: TextConfig = {
    D,
    L: size(t.num_hidden_layers, 'num_hidden_layers', LIMITS.textLayers),
    H: size(t.num_attention_heads, 'num_attention_heads', LIMITS.textHeads),
    V: size(t.vocab_size, 'vocab_size', LIMITS.vocab),
    E: size(root.projection_dim ?? t.projection_dim, 'projection_dim', LIMITS.textWidth),
    F: size(t.intermediate_size, 'intermediate_size', LIMITS.textMlp, 4 * D),
    P: size(t.max_position_embeddings, 'max_position_embeddings', LIMITS.textPositions, 77),
    eps: num(t.layer_norm_eps, 'layer_norm_eps', 1e-5),
  };
  if (cfg.D % cfg.H !== 0) throw new TextTowerError(`config.json: hidden_size ${cfg.D} is not divisible by num_attention_heads ${cfg.H}`);
  const bytes = textWeightBytes(cfg);
  if (bytes > LIMITS.textWeightBytes) {
    throw new TooLargeError(`config.json's text tower (D=${cfg.D}, layers=${cfg.L}, vocab=${cfg.V}, MLP=${cfg.F})`, `${bytesText(bytes)} of weights`, bytesText(LIMITS.textWeightBytes));
  }
  return cfg;
}

/**
 * Parses the model file and extracts the text tower. `modelBytes` stays referenced by the weight views of an
 * fp32 file; an fp16 file's weights are upcast copies. `file` names the file in messages.
 */
export function loadTextWeights(modelBytes: ArrayBuffer | Uint8Array, configJson: unknown, file = 'text_model.onnx'): TextWeights {
  const cfg = textConfigFromJson(configJson);
  // No tensor of a text tower is larger than its largest weight: the file's tensors are held to that before any is read.
  const { D, V, E, F, P } = cfg;
  const maxTensorElements = Math.max(V * D, P * D, D * F, D * E, D * D);
  const why = `the largest weight of a text tower with D=${D}, vocab=${V}, MLP=${F}`;
  try {
    return textWeightsFromOnnx(readOnnxModel(modelBytes, { maxTensorElements, why }), cfg, file);
  } catch (e) {
    if (e instanceof TooLargeError) throw new TooLargeError(`${file}: ${e.what}`, e.actual, e.limit);
    throw e;
  }
}

/** The most bytes a text_model.onnx of this config can hold: its weights in fp32, and room for the graph. */
export function maxTextModelBytes(cfg: TextConfig): number {
  return textWeightBytes(cfg) + LIMITS.onnxOverheadBytes;
}

type Problem = string;

class GraphIndex {
  readonly producer = new Map<string, OnnxNode>();
  readonly consumers = new Map<string, OnnxNode[]>();
  constructor(readonly graph: OnnxGraph) {
    // Cast nodes are transparent here: fp16 files (transformers.js's converter) cast half-precision
    // initializers up to float before the op that uses them, and cast activations around blocked ops.
    for (const n of graph.nodes) {
      for (const o of n.outputs) this.producer.set(o, n);
      for (const i of n.inputs) {
        let list = this.consumers.get(i);
        if (!list) this.consumers.set(i, (list = []));
        list.push(n);
      }
    }
  }

  /** The nodes that read `name`, looking through Cast nodes to the nodes that read the cast value. */
  users(name: string): OnnxNode[] {
    const out: OnnxNode[] = [];
    for (const n of this.consumers.get(name) ?? []) {
      if (n.opType === 'Cast') out.push(...this.users(n.outputs[0]));
      else out.push(n);
    }
    return out;
  }

  /** The node that computes `name`, looking back through Cast nodes. */
  origin(name: string): OnnxNode | undefined {
    const p = this.producer.get(name);
    return p?.opType === 'Cast' ? this.origin(p.inputs[0]) : p;
  }

  /** The value `name` is, before any Casts: where a node reading a cast value really reads from. */
  uncast(name: string): string {
    const p = this.producer.get(name);
    return p?.opType === 'Cast' ? this.uncast(p.inputs[0]) : name;
  }

  /**
   * Initializer whose name is `suffix` or ends with `.suffix`, so that both CLIPModel
   * (`text_model.encoder...`) and CLIPTextModel (`encoder...`) exports are found.
   */
  named(suffix: string): OnnxTensor | undefined {
    const direct = this.graph.initializers.get(suffix) ?? this.graph.initializers.get(`text_model.${suffix}`);
    if (direct) return direct;
    let found: OnnxTensor | undefined;
    for (const [name, t] of this.graph.initializers) {
      if (name.endsWith(`.${suffix}`) && !name.includes('vision')) {
        if (found) return undefined; // ambiguous: refuse to guess
        found = t;
      }
    }
    return found;
  }

  /**
   * A constant input of `node`: an initializer, a Constant node's value, or either of those
   * behind a Transpose (which then means the stored tensor is [out,in]).
   */
  constant(name: string): { tensor: OnnxTensor; transposed: boolean } | undefined {
    const init = this.graph.initializers.get(name);
    if (init) return { tensor: init, transposed: false };
    const p = this.producer.get(name);
    if (!p) return undefined;
    if (p.opType === 'Cast') return this.constant(p.inputs[0]);
    if (p.opType === 'Constant') {
      const t = p.attributes.find((a) => a.name === 'value')?.t;
      return t ? { tensor: t, transposed: false } : undefined;
    }
    if (p.opType === 'Transpose' && p.inputs.length === 1) {
      const inner = this.constant(p.inputs[0]);
      const perm = p.attributes.find((a) => a.name === 'perm')?.ints;
      if (inner && (!perm || (perm.length === 2 && perm[0] === 1 && perm[1] === 0))) return { tensor: inner.tensor, transposed: !inner.transposed };
    }
    return undefined;
  }
}

interface FoundWeight {
  data: Arr;
  dims: number[];
  how: string;
}

function dimsOf(t: OnnxTensor): number[] {
  return t.dims.slice();
}

function floatsOf(t: OnnxTensor, what: string): Float32Array {
  if (t.external) throw new Error(`${what} ('${t.name}') is stored in an external data file, which this loader does not read`);
  if (!t.float) throw new Error(`${what} ('${t.name}') is not float32 (ONNX data type ${t.dataType})`);
  return t.float;
}

function transpose2d(src: Arr, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c];
  return out;
}

/** [in,out] weight from a constant that may be stored [out,in]. */
function asInOut(c: { tensor: OnnxTensor; transposed: boolean }, what: string, how: string): FoundWeight {
  const data = floatsOf(c.tensor, what);
  const dims = dimsOf(c.tensor);
  if (!c.transposed || dims.length !== 2) return { data, dims, how };
  return { data: transpose2d(data, dims[0], dims[1]), dims: [dims[1], dims[0]], how: `${how}, transposed` };
}

/**
 * The weight of the linear layer whose bias is `biasName`: the MatMul (or Gemm) that the
 * bias is added to. Falls back to a sibling `.weight` initializer in PyTorch [out,in] layout.
 */
function linearWeightForBias(g: GraphIndex, bias: OnnxTensor, what: string): FoundWeight | undefined {
  for (const user of g.users(bias.name)) {
    if (user.opType === 'Add') {
      const other = user.inputs.find((i) => g.uncast(i) !== bias.name);
      const mm = other ? g.origin(other) : undefined;
      if (mm?.opType === 'MatMul') {
        const w = g.constant(mm.inputs[1]);
        if (w) return asInOut(w, what, `MatMul '${mm.name || mm.outputs[0]}'`);
      }
    }
    if (user.opType === 'Gemm' && user.inputs[2] !== undefined && g.uncast(user.inputs[2]) === bias.name) {
      const w = g.constant(user.inputs[1]);
      const transB = user.attributes.find((a) => a.name === 'transB')?.i === 1;
      if (w) return asInOut({ tensor: w.tensor, transposed: w.transposed !== transB }, what, `Gemm '${user.name}'`);
    }
  }
  const weightName = bias.name.replace(/\.bias$/, '.weight');
  const named = g.graph.initializers.get(weightName);
  if (named) {
    // A named weight used directly as a MatMul operand is already [in,out]; otherwise it is nn.Linear's [out,in].
    const asMatMulB = g.users(weightName).some((n) => n.opType === 'MatMul' && g.uncast(n.inputs[1]) === weightName);
    return asInOut({ tensor: named, transposed: !asMatMulB }, what, `named '${weightName}'`);
  }
  return undefined;
}

/** The output of the final layer norm: whatever node consumes its bias (Add, or a fused LayerNormalization). */
function projectionWeight(g: GraphIndex, finalBias: OnnxTensor | undefined): FoundWeight | undefined {
  if (finalBias) {
    const start = g.users(finalBias.name).find((n) => n.opType === 'Add' || n.opType === 'LayerNormalization');
    // Walk forward through the pooling ops (Gather, Reshape, Flatten...) to the first MatMul on a constant.
    const queue = start ? [start.outputs[0]] : [];
    const seen = new Set<string>();
    while (queue.length) {
      const v = queue.shift()!;
      if (seen.has(v)) continue;
      seen.add(v);
      for (const n of g.consumers.get(v) ?? []) {
        if (n.opType === 'MatMul' && n.inputs[0] === v) {
          const w = g.constant(n.inputs[1]);
          if (w) return asInOut(w, 'text_projection', `MatMul '${n.name || n.outputs[0]}' on the pooled final-layer-norm output`);
        } else if (n.opType !== 'MatMul' && n.opType !== 'Gemm') {
          // Only follow the data input (index ids or shapes are the other inputs).
          if (n.inputs[0] === v) queue.push(...n.outputs);
        }
      }
    }
  }
  const named = g.named('text_projection.weight');
  if (named) return asInOut({ tensor: named, transposed: true }, 'text_projection', `named '${named.name}'`);
  return undefined;
}

export function textWeightsFromOnnx(model: OnnxModel, cfg: TextConfig, file = 'text_model.onnx'): TextWeights {
  const g = new GraphIndex(model.graph);
  const problems: Problem[] = [];
  const { D, L, V, E, F, P } = cfg;
  const empty = new Float32Array(0);

  const check = (what: string, w: FoundWeight | undefined, expected: number[], hint: string): Arr => {
    if (!w) {
      problems.push(`${what} is missing (${hint})`);
      return empty;
    }
    const n = expected.reduce((a, b) => a * b, 1);
    const dimsOk = w.dims.length === expected.length ? w.dims.every((d, i) => d === expected[i]) : false;
    if (!dimsOk || w.data.length !== n) {
      problems.push(`${what} has shape [${w.dims.join(', ')}], expected [${expected.join(', ')}] (found as ${w.how})`);
      return empty;
    }
    return w.data;
  };

  const namedVector = (suffix: string, expected: number[]): Arr => {
    const t = g.named(suffix);
    let w: FoundWeight | undefined;
    try {
      w = t ? { data: floatsOf(t, suffix), dims: dimsOf(t), how: `'${t.name}'` } : undefined;
    } catch (e) {
      problems.push((e as Error).message);
      return empty;
    }
    return check(suffix, w, expected, `no initializer named '${suffix}'`);
  };

  const linear = (prefix: string, inDim: number, outDim: number): Linear => {
    const b = namedVector(`${prefix}.bias`, [outDim]);
    const biasT = g.named(`${prefix}.bias`);
    let w: FoundWeight | undefined;
    try {
      w = biasT ? linearWeightForBias(g, biasT, `${prefix}.weight`) : undefined;
    } catch (e) {
      problems.push((e as Error).message);
    }
    const hint = biasT ? `no MatMul output is added to '${biasT.name}', and no '${prefix}.weight'` : `its bias is missing too`;
    return { w: check(`${prefix}.weight`, w, [inDim, outDim], hint), b };
  };

  const ln = (prefix: string): LayerNormWeights => ({
    weight: namedVector(`${prefix}.weight`, [D]),
    bias: namedVector(`${prefix}.bias`, [D]),
  });

  const tokenEmbedding = namedVector('embeddings.token_embedding.weight', [V, D]);
  const positionEmbedding = namedVector('embeddings.position_embedding.weight', [P, D]);
  const layers: TextLayerWeights[] = [];
  for (let i = 0; i < L; i++) {
    const p = `encoder.layers.${i}`;
    layers.push({
      ln1: ln(`${p}.layer_norm1`),
      q: linear(`${p}.self_attn.q_proj`, D, D),
      k: linear(`${p}.self_attn.k_proj`, D, D),
      v: linear(`${p}.self_attn.v_proj`, D, D),
      out: linear(`${p}.self_attn.out_proj`, D, D),
      ln2: ln(`${p}.layer_norm2`),
      fc1: linear(`${p}.mlp.fc1`, D, F),
      fc2: linear(`${p}.mlp.fc2`, F, D),
    });
  }
  if (g.named(`encoder.layers.${L}.layer_norm1.weight`)) {
    problems.push(`the file has more than the ${L} layers config.json declares (found encoder.layers.${L})`);
  }
  const finalLn = ln('final_layer_norm');
  let proj: FoundWeight | undefined;
  try {
    proj = projectionWeight(g, g.named('final_layer_norm.bias'));
  } catch (e) {
    problems.push((e as Error).message);
  }
  const projection = check('text_projection', proj, [D, E], 'no MatMul consumes the pooled final_layer_norm output');

  if (problems.length) {
    throw new TextTowerError(
      `${file} is not a CLIP text tower this engine can read (config: D=${D}, layers=${L}, vocab=${V}, projection=${E}):\n- ` +
        problems.join('\n- '),
    );
  }
  return { config: cfg, tokenEmbedding, positionEmbedding, layers, finalLn, projection };
}

/** Bytes of float data the weights hold (views included), for memory plans and reports. */
export function textWeightBytes(cfg: TextConfig): number {
  const { D, L, V, E, F, P } = cfg;
  const perLayer = 4 * D + 4 * (D * D + D) + (D * F + F) + (F * D + D);
  return 4 * (V * D + P * D + L * perLayer + 2 * D + D * E);
}
