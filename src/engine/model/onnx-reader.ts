/**
 * Just enough of the protobuf wire format to read an ONNX ModelProto: the graph's nodes
 * (op_type, inputs, outputs, a few attribute kinds) and its initializers. A full protobuf
 * runtime plus the ONNX schema would cost more than the model loader itself, and we only
 * ever need these few fields.
 *
 * Tensor data stays in the caller's ArrayBuffer: a float initializer whose raw_data starts
 * 4-byte aligned is a Float32Array view on it; otherwise (or for packed float_data) it is
 * copied once. A 250 MB text model therefore never needs a second full copy.
 */

/** TensorProto.DataType values this code names. */
export const OnnxDataType = { FLOAT: 1, INT32: 6, INT64: 7, FLOAT16: 10, DOUBLE: 11 } as const;

export interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: number;
  /**
   * Float data for FLOAT tensors (view or copy, see above) and FLOAT16 ones (upcast once into a new array:
   * the engine computes in fp32); undefined for other types.
   */
  float?: Float32Array;
  /** The stored bytes, for non-float types (e.g. int64 constants). */
  raw?: Uint8Array;
  /** Set when the data lives in an external file, which this reader does not follow. */
  external?: boolean;
}

export interface OnnxAttribute {
  name: string;
  f?: number;
  i?: number;
  s?: string;
  ints?: number[];
  floats?: number[];
  t?: OnnxTensor;
}

export interface OnnxNode {
  name: string;
  opType: string;
  inputs: string[];
  outputs: string[];
  attributes: OnnxAttribute[];
}

export interface OnnxGraph {
  nodes: OnnxNode[];
  initializers: Map<string, OnnxTensor>;
  inputs: string[];
  outputs: string[];
}

export interface OnnxModel {
  irVersion: number;
  producerName: string;
  opsetVersion: number;
  graph: OnnxGraph;
}

import { countText, LIMITS, TooLargeError } from '../../input-limits';
import { halfBytesToFloat, halfToFloat } from './half';

/** A file that is not an ONNX model this reader can parse (damaged, cut short, or another format). */
export class OnnxFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OnnxFormatError';
  }
}

/** What a caller knows the model may hold, checked against each tensor's declared dims before its data is read. */
export interface OnnxReadLimits {
  /** The most elements one tensor may declare (e.g. the largest weight of a text tower of the config's shape). */
  maxTensorElements?: number;
  /** Why, for the message (e.g. "the largest weight of a text tower with D=512, vocab=49408"). */
  why?: string;
}


const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

/** A cursor over one message's bytes; sub-messages share the underlying buffer. */
class Reader {
  pos: number;
  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    readonly end = bytes.length,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** Varints up to 2^53 exactly; ONNX sizes and dims never go beyond. */
  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Error('ONNX: truncated varint');
      const b = this.bytes[this.pos++];
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    throw new Error('ONNX: malformed varint');
  }

  /** int64 fields are two's complement varints: negative values use all 10 bytes. */
  int64(): number {
    const v = this.varint();
    return v >= 2 ** 63 ? v - 2 ** 64 : v;
  }

  /** Returns [start, end) of a length-delimited field. */
  span(): [number, number] {
    const len = this.varint();
    const start = this.pos;
    const end = start + len;
    if (end > this.end) throw new Error(`ONNX: field of ${len} bytes runs past the end of its message`);
    this.pos = end;
    return [start, end];
  }

  sub(): Reader {
    const [s, e] = this.span();
    return new Reader(this.bytes, s, e);
  }

  string(): string {
    const [s, e] = this.span();
    return utf8.decode(this.bytes.subarray(s, e));
  }

  f32(): number {
    const v = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.pos, 4).getFloat32(0, true);
    this.pos += 4;
    return v;
  }

  skip(wire: number): void {
    if (wire === WIRE_VARINT) this.varint();
    else if (wire === WIRE_I64) this.pos += 8;
    else if (wire === WIRE_LEN) this.span();
    else if (wire === WIRE_I32) this.pos += 4;
    else throw new Error(`ONNX: unsupported wire type ${wire}`);
  }

  /** Repeated scalar fields may arrive packed (one LEN field) or one per tag. */
  repeatedVarint(wire: number, out: number[], signed = false): void {
    if (wire === WIRE_LEN) {
      const r = this.sub();
      while (!r.done) out.push(signed ? r.int64() : r.varint());
    } else out.push(signed ? this.int64() : this.varint());
  }
}

const utf8 = new TextDecoder();

function forEachField(r: Reader, fn: (field: number, wire: number) => boolean | void): void {
  while (!r.done) {
    const key = r.varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    const startPos = r.pos;
    const handled = fn(field, wire);
    if (!handled) {
      r.pos = startPos;
      r.skip(wire);
    }
  }
}

function readTensor(r: Reader, limits: OnnxReadLimits): OnnxTensor {
  const t: OnnxTensor = { name: '', dims: [], dataType: 0 };
  let rawSpan: [number, number] | undefined;
  const floats: number[] = [];
  let floatSpan: [number, number] | undefined;
  // int32_data: where a float16 tensor stored without raw_data keeps its bits (one value per int32). Packed, it is
  // kept as a span and decoded only once the dims are checked (one byte per value would otherwise become 8).
  const int32s: number[] = [];
  const int32Spans: Array<[number, number]> = [];
  forEachField(r, (field, wire) => {
    switch (field) {
      case 1:
        r.repeatedVarint(wire, t.dims, true);
        if (t.dims.length > LIMITS.onnxTensorRank) throw new OnnxFormatError(`ONNX: a tensor has ${t.dims.length} dims or more (at most ${LIMITS.onnxTensorRank} are read)`);
        return true;
      case 2:
        t.dataType = r.varint();
        return true;
      case 4: // float_data, normally packed
        if (wire === WIRE_LEN) floatSpan = r.span();
        else floats.push(r.f32());
        return true;
      case 5:
        if (wire === WIRE_LEN) int32Spans.push(r.span());
        else r.repeatedVarint(wire, int32s);
        return true;
      case 8:
        t.name = r.string();
        return true;
      case 9:
        rawSpan = r.span();
        return true;
      case 14: // data_location: 1 = EXTERNAL
        t.external = r.varint() === 1;
        return true;
    }
    return false;
  });
  if (t.dims.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new OnnxFormatError(`ONNX: tensor '${t.name}' has dims [${t.dims}]; dims are whole numbers ≥ 0`);
  const count = t.dims.reduce((a, b) => a * b, 1);
  // Declared dims against what the caller knows the model holds, before any of its data is decoded or copied.
  if (limits.maxTensorElements !== undefined && count > limits.maxTensorElements) {
    throw new TooLargeError(`tensor '${t.name}' with dims [${t.dims.join(', ')}]`, `${countText(count)} elements`, `${countText(limits.maxTensorElements)} elements${limits.why ? ` (${limits.why})` : ''}`);
  }
  if (t.dataType === OnnxDataType.FLOAT16 && !t.external && !rawSpan && int32Spans.length) {
    const bytes = int32Spans.reduce((n, [s, e]) => n + e - s, 0);
    // Each packed value takes at least one byte: more values than bytes cannot be, fewer than count is refused below.
    if (int32s.length + bytes >= count) {
      for (const [s, e] of int32Spans) {
        const sub = new Reader(r.bytes, s, e);
        while (!sub.done && int32s.length <= count) int32s.push(sub.varint());
      }
    }
  }
  if (t.dataType === OnnxDataType.FLOAT) {
    if (rawSpan) t.float = floatView(r.bytes, rawSpan[0], rawSpan[1] - rawSpan[0]);
    else if (floatSpan) t.float = floatView(r.bytes, floatSpan[0], floatSpan[1] - floatSpan[0]);
    else if (floats.length) t.float = Float32Array.from(floats);
    else if (!t.external && count === 0) t.float = new Float32Array(0);
    if (t.float && t.float.length !== count && !t.external) {
      throw new Error(`ONNX: initializer '${t.name}' has ${t.float.length} floats for dims [${t.dims}]`);
    }
  } else if (t.dataType === OnnxDataType.FLOAT16 && !t.external) {
    if (rawSpan) {
      t.raw = r.bytes.subarray(rawSpan[0], rawSpan[1]);
      if (t.raw.byteLength !== count * 2) {
        throw new Error(`ONNX: float16 initializer '${t.name}' has ${t.raw.byteLength} bytes for dims [${t.dims}]`);
      }
      t.float = halfBytesToFloat(t.raw, count);
    } else if (int32s.length === count) t.float = halfToFloat(Uint16Array.from(int32s));
    else if (count === 0) t.float = new Float32Array(0);
    else throw new Error(`ONNX: float16 initializer '${t.name}' has ${int32s.length} values for dims [${t.dims}]`);
  } else if (rawSpan) {
    t.raw = r.bytes.subarray(rawSpan[0], rawSpan[1]);
  }
  return t;
}

/** Little-endian float32 from bytes[start, start+len): a view when aligned, else one copy. */
function floatView(bytes: Uint8Array, start: number, len: number): Float32Array {
  if (len % 4 !== 0) throw new Error(`ONNX: float data of ${len} bytes is not a multiple of 4`);
  const abs = bytes.byteOffset + start;
  if (abs % 4 === 0) return new Float32Array(bytes.buffer, abs, len / 4);
  return new Float32Array(bytes.buffer.slice(abs, abs + len));
}

function readAttribute(r: Reader, limits: OnnxReadLimits): OnnxAttribute {
  const a: OnnxAttribute = { name: '' };
  forEachField(r, (field, wire) => {
    switch (field) {
      case 1:
        a.name = r.string();
        return true;
      case 2:
        a.f = r.f32();
        return true;
      case 3:
        a.i = r.int64();
        return true;
      case 4:
        a.s = r.string();
        return true;
      case 5:
        a.t = readTensor(r.sub(), limits);
        return true;
      case 7: {
        a.floats ??= [];
        if (wire === WIRE_LEN) {
          const s = r.sub();
          while (!s.done) a.floats.push(s.f32());
        } else a.floats.push(r.f32());
        return true;
      }
      case 8:
        a.ints ??= [];
        r.repeatedVarint(wire, a.ints, true);
        return true;
    }
    return false;
  });
  return a;
}

function readNode(r: Reader, limits: OnnxReadLimits): OnnxNode {
  const n: OnnxNode = { name: '', opType: '', inputs: [], outputs: [], attributes: [] };
  forEachField(r, (field) => {
    switch (field) {
      case 1:
        n.inputs.push(r.string());
        return true;
      case 2:
        n.outputs.push(r.string());
        return true;
      case 3:
        n.name = r.string();
        return true;
      case 4:
        n.opType = r.string();
        return true;
      case 5:
        n.attributes.push(readAttribute(r.sub(), limits));
        return true;
    }
    return false;
  });
  return n;
}

/** ValueInfoProto: only the name matters here. */
function readValueInfoName(r: Reader): string {
  let name = '';
  forEachField(r, (field) => {
    if (field === 1) {
      name = r.string();
      return true;
    }
    return false;
  });
  return name;
}

function readGraph(r: Reader, limits: OnnxReadLimits): OnnxGraph {
  const g: OnnxGraph = { nodes: [], initializers: new Map(), inputs: [], outputs: [] };
  forEachField(r, (field) => {
    switch (field) {
      case 1:
        g.nodes.push(readNode(r.sub(), limits));
        return true;
      case 5: {
        const t = readTensor(r.sub(), limits);
        g.initializers.set(t.name, t);
        return true;
      }
      case 11:
        g.inputs.push(readValueInfoName(r.sub()));
        return true;
      case 12:
        g.outputs.push(readValueInfoName(r.sub()));
        return true;
    }
    return false;
  });
  return g;
}

/**
 * Parses an ONNX ModelProto. `data` is kept alive by the returned tensor views. A file that is not ONNX throws
 * OnnxFormatError; a tensor declaring more than `limits` allow throws TooLargeError.
 */
export function readOnnxModel(data: ArrayBuffer | Uint8Array, limits: OnnxReadLimits = {}): OnnxModel {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  const r = new Reader(bytes);
  const model: OnnxModel = { irVersion: 0, producerName: '', opsetVersion: 0, graph: undefined as unknown as OnnxGraph };
  try {
    forEachField(r, (field) => {
      switch (field) {
        case 1:
          model.irVersion = r.varint();
          return true;
        case 2:
          model.producerName = r.string();
          return true;
        case 7:
          model.graph = readGraph(r.sub(), limits);
          return true;
        case 8: {
          // OperatorSetIdProto {domain = 1, version = 2}; the default domain is ''.
          let domain = '';
          let version = 0;
          const s = r.sub();
          forEachField(s, (f) => {
            if (f === 1) domain = s.string();
            else if (f === 2) version = s.varint();
            else return false;
            return true;
          });
          if (domain === '' || domain === 'ai.onnx') model.opsetVersion = version;
          return true;
        }
      }
      return false;
    });
  } catch (e) {
    if (e instanceof TooLargeError) throw e;
    throw new OnnxFormatError(`Not a readable ONNX model: ${(e as Error).message}`);
  }
  if (!model.graph) throw new OnnxFormatError('Not a readable ONNX model: no graph in the file');
  return model;
}

/**
 * Checks a file's outer framing without parsing the graph: every top-level field of the ModelProto must end
 * inside the file and a graph must be present. A file cut short by a dropped download fails here in
 * microseconds, before onnxruntime spends seconds on it and reports something obscure. Returns the problem,
 * or null when the framing is whole.
 */
export function onnxFramingProblem(data: Uint8Array): string | null {
  if (data.byteLength === 0) return 'is empty';
  const r = new Reader(data);
  let graph = false;
  try {
    forEachField(r, (field, wire) => {
      if (wire === WIRE_I64 || wire === WIRE_I32) {
        const width = wire === WIRE_I64 ? 8 : 4;
        if (r.pos + width > r.end) throw new Error(`a field ends ${r.pos + width - r.end} bytes past the end of the file`);
      }
      if (field === 7 && wire === WIRE_LEN) {
        const len = r.varint();
        if (r.pos + len > r.end) {
          throw new Error(`its graph needs ${r.pos + len} bytes but the file has ${r.end}`);
        }
        r.pos += len;
        graph = true;
        return true;
      }
      return false;
    });
  } catch (e) {
    const msg = (e as Error).message.replace(/^ONNX: /, '');
    return `is truncated or not an ONNX model (${msg})`;
  }
  return graph ? null : 'is not an ONNX model (no graph in the file)';
}
