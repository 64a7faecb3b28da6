/**
 * Writes ONNX ModelProtos of any size: a message is a list of byte chunks with a known length, so a
 * 350 MB initializer is referenced (a view on its Float32Array), never copied into a growing array, and
 * the file is written chunk by chunk. Only the fields the stand-in's graphs use are here; field numbers
 * are onnx.proto3's.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

export const DataType = { FLOAT: 1, INT64: 7, FLOAT16: 10 } as const;
const AttrType = { FLOAT: 1, INT: 2, TENSOR: 4, INTS: 7 } as const;

export class Msg {
  readonly chunks: Uint8Array[] = [];
  length = 0;
  private scratch: number[] = [];

  private flush(): void {
    if (!this.scratch.length) return;
    this.chunks.push(Uint8Array.from(this.scratch));
    this.scratch = [];
  }

  private byte(b: number): void {
    this.scratch.push(b);
    this.length++;
  }

  varint(v: number): this {
    if (v < 0) {
      // A negative int64 is its 64-bit two's complement, ten bytes; a double cannot hold 2^64 + v exactly.
      let b = BigInt.asUintN(64, BigInt(v));
      while (b >= 128n) {
        this.byte(Number(b & 127n) | 0x80);
        b >>= 7n;
      }
      this.byte(Number(b));
      return this;
    }
    while (v >= 128) {
      this.byte((v % 128) | 0x80);
      v = Math.floor(v / 128);
    }
    this.byte(v);
    return this;
  }

  tag(field: number, wire: number): this {
    return this.varint(field * 8 + wire);
  }

  int(field: number, v: number): this {
    return this.tag(field, 0).varint(v);
  }

  float(field: number, v: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(new Float32Array([v]).buffer);
    for (const x of b) this.byte(x);
    return this;
  }

  bytes(field: number, data: Uint8Array): this {
    this.tag(field, 2).varint(data.byteLength);
    this.flush();
    this.chunks.push(data);
    this.length += data.byteLength;
    return this;
  }

  str(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  msg(field: number, m: Msg): this {
    m.flush();
    this.tag(field, 2).varint(m.length);
    this.flush();
    for (const c of m.chunks) this.chunks.push(c);
    this.length += m.length;
    return this;
  }

  /** The chunks, complete (call once the message is built). */
  done(): Uint8Array[] {
    this.flush();
    return this.chunks;
  }
}

export interface TensorSpec {
  name: string;
  dims: number[];
  /** FLOAT data (stored as raw_data, or as FLOAT16 when `half` is given), or INT64 values. */
  float?: Float32Array;
  half?: Uint16Array;
  int64?: number[];
  /** Store FLOAT data as packed float_data instead of raw_data (some exporters do; the reader must cope). */
  asFloatData?: boolean;
}

export function tensorMsg(t: TensorSpec): Msg {
  const m = new Msg();
  for (const d of t.dims) m.int(1, d);
  if (t.half) {
    m.int(2, DataType.FLOAT16).str(8, t.name);
    m.bytes(9, new Uint8Array(t.half.buffer, t.half.byteOffset, t.half.byteLength));
  } else if (t.float) {
    m.int(2, DataType.FLOAT).str(8, t.name);
    m.bytes(t.asFloatData ? 4 : 9, new Uint8Array(t.float.buffer, t.float.byteOffset, t.float.byteLength));
  } else if (t.int64) {
    m.int(2, DataType.INT64).str(8, t.name);
    const b = new BigInt64Array(t.int64.map((v) => BigInt(v)));
    m.bytes(9, new Uint8Array(b.buffer));
  } else throw new Error(`tensor ${t.name} has no data`);
  return m;
}

export type AttrValue = number | number[] | { int: number } | { float: number } | { tensor: TensorSpec };

/** A plain number is an INT attribute; `{ float }` a FLOAT one; an array INTS. */
export function attrMsg(name: string, v: AttrValue): Msg {
  const m = new Msg().str(1, name);
  if (typeof v === 'number') m.int(3, v).int(20, AttrType.INT);
  else if (Array.isArray(v)) {
    for (const x of v) m.int(8, x);
    m.int(20, AttrType.INTS);
  } else if ('int' in v) m.int(3, v.int).int(20, AttrType.INT);
  else if ('float' in v) m.float(2, v.float).int(20, AttrType.FLOAT);
  else m.msg(5, tensorMsg(v.tensor)).int(20, AttrType.TENSOR);
  return m;
}

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name: string;
  attrs?: Record<string, AttrValue>;
}

export function nodeMsg(n: NodeSpec): Msg {
  const m = new Msg();
  for (const i of n.inputs) m.str(1, i);
  for (const o of n.outputs) m.str(2, o);
  m.str(3, n.name).str(4, n.op);
  for (const [k, v] of Object.entries(n.attrs ?? {})) m.msg(5, attrMsg(k, v));
  return m;
}

/** A graph input or output: element type and dims (a string is a symbolic dim such as 'batch_size'). */
export interface ValueSpec {
  name: string;
  elemType: number;
  dims: Array<number | string>;
}

export function valueInfoMsg(v: ValueSpec): Msg {
  const shape = new Msg();
  for (const d of v.dims) shape.msg(1, typeof d === 'number' ? new Msg().int(1, d) : new Msg().str(2, d));
  const tensorType = new Msg().int(1, v.elemType).msg(2, shape);
  return new Msg().str(1, v.name).msg(2, new Msg().msg(1, tensorType));
}

export interface ModelSpec {
  graphName: string;
  nodes: NodeSpec[];
  initializers: TensorSpec[];
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  producer: string;
  opset: number;
  irVersion: number;
}

export function modelMsg(s: ModelSpec): Msg {
  const g = new Msg();
  for (const n of s.nodes) g.msg(1, nodeMsg(n));
  if (s.graphName) g.str(2, s.graphName);
  for (const t of s.initializers) g.msg(5, tensorMsg(t));
  for (const v of s.inputs) g.msg(11, valueInfoMsg(v));
  for (const v of s.outputs) g.msg(12, valueInfoMsg(v));
  return new Msg().int(1, s.irVersion).str(2, s.producer).msg(7, g).msg(8, new Msg().str(1, '').int(2, s.opset));
}

/** Writes the model's chunks to `path`; returns the byte count. */
export function writeModelFile(path: string, model: Msg): number {
  const fd = openSync(path, 'w');
  try {
    for (const c of model.done()) writeSync(fd, c);
  } finally {
    closeSync(fd);
  }
  return model.length;
}

/** The model as one buffer (small models in tests). */
export function modelBytes(model: Msg): Uint8Array {
  const out = new Uint8Array(model.length);
  let o = 0;
  for (const c of model.done()) {
    out.set(c, o);
    o += c.byteLength;
  }
  return out;
}
