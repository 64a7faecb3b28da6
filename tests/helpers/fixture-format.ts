/**
 * Reader for the COOPFIX1 dumps written by tools/toy-clip/fixtures.py:
 * b"COOPFIX1", uint32 LE header length, JSON header {meta, tensors}, then the arrays.
 * No Node imports, so the browser test project can parse fixtures it fetched.
 */
export interface FixtureTensor {
  dtype: 'float32' | 'int32';
  shape: number[];
  data: Float32Array | Int32Array;
}

export interface Fixture {
  meta: Record<string, unknown>;
  tensors: Record<string, FixtureTensor>;
  f32(name: string): Float32Array;
  i32(name: string): Int32Array;
  shape(name: string): number[];
}

export function parseFixture(bytes: Uint8Array): Fixture {
  const magic = new TextDecoder().decode(bytes.subarray(0, 8));
  if (magic !== 'COOPFIX1') throw new Error(`not a COOPFIX1 fixture (magic ${JSON.stringify(magic)})`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = dv.getUint32(8, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + n))) as {
    meta: Record<string, unknown>;
    tensors: { name: string; dtype: 'float32' | 'int32'; shape: number[]; offset: number }[];
  };
  const base = 12 + n;
  const tensors: Record<string, FixtureTensor> = {};
  for (const t of header.tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    // Copy so the arrays are aligned and independent of the file buffer.
    const raw = bytes.slice(base + t.offset, base + t.offset + count * 4);
    const data = t.dtype === 'float32' ? new Float32Array(raw.buffer) : new Int32Array(raw.buffer);
    tensors[t.name] = { dtype: t.dtype, shape: t.shape, data };
  }
  const get = (name: string) => {
    const t = tensors[name];
    if (!t) throw new Error(`fixture has no tensor '${name}' (has ${Object.keys(tensors).join(', ')})`);
    return t;
  };
  return {
    meta: header.meta,
    tensors,
    f32: (name) => {
      const t = get(name);
      if (!(t.data instanceof Float32Array)) throw new Error(`${name} is ${t.dtype}`);
      return t.data;
    },
    i32: (name) => {
      const t = get(name);
      if (!(t.data instanceof Int32Array)) throw new Error(`${name} is ${t.dtype}`);
      return t.data;
    },
    shape: (name) => get(name).shape,
  };
}
