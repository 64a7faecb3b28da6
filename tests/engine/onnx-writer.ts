/**
 * A tiny ONNX ModelProto writer for tests: builds graphs the reader must handle (named
 * PyTorch-layout weights, unaligned raw_data, missing tensors) without a Python round trip.
 */
export interface TestTensor {
  name: string;
  dims: number[];
  data: ArrayLike<number>;
  /** Store as packed float_data instead of raw_data. */
  asFloatData?: boolean;
}
export interface TestNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  attrs?: { name: string; i?: number; ints?: number[] }[];
}

class Writer {
  bytes: number[] = [];
  varint(v: number): this {
    if (v < 0) v += 2 ** 64;
    while (v >= 128) {
      this.bytes.push((v % 128) | 0x80);
      v = Math.floor(v / 128);
    }
    this.bytes.push(v);
    return this;
  }
  tag(field: number, wire: number): this {
    return this.varint(field * 8 + wire);
  }
  len(field: number, payload: number[] | Uint8Array): this {
    this.tag(field, 2).varint(payload.length);
    for (const b of payload) this.bytes.push(b);
    return this;
  }
  str(field: number, s: string): this {
    return this.len(field, new TextEncoder().encode(s));
  }
  msg(field: number, w: Writer): this {
    return this.len(field, w.bytes);
  }
}

function tensor(t: TestTensor): Writer {
  const w = new Writer();
  for (const d of t.dims) w.tag(1, 0).varint(d);
  w.tag(2, 0).varint(1);
  const f = new Uint8Array(Float32Array.from(t.data).buffer);
  w.str(8, t.name);
  if (t.asFloatData) w.len(4, f);
  else w.len(9, f);
  return w;
}

/** Encodes a model; `pad` bytes of producer name shift all raw data to test unaligned views. */
export function writeOnnx(nodes: TestNode[], inits: TestTensor[], pad = 0): Uint8Array {
  const g = new Writer();
  for (const n of nodes) {
    const nw = new Writer();
    for (const i of n.inputs) nw.str(1, i);
    for (const o of n.outputs) nw.str(2, o);
    nw.str(3, n.name ?? n.outputs[0]);
    nw.str(4, n.opType);
    for (const a of n.attrs ?? []) {
      const aw = new Writer().str(1, a.name);
      if (a.i !== undefined) aw.tag(3, 0).varint(a.i);
      if (a.ints) for (const v of a.ints) aw.tag(8, 0).varint(v);
      nw.msg(5, aw);
    }
    g.msg(1, nw);
  }
  for (const t of inits) g.msg(5, tensor(t));
  const m = new Writer();
  m.tag(1, 0).varint(7);
  m.str(2, 'test' + 'x'.repeat(pad));
  m.msg(8, new Writer().tag(2, 0).varint(14));
  m.msg(7, g);
  return Uint8Array.from(m.bytes);
}
