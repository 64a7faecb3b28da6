/**
 * IEEE 754 half precision ⇄ single precision. transformers.js publishes `*_fp16.onnx` files whose
 * initializers are float16; the engine computes in float32, so the text weights are upcast once when read
 * (exact: every half is a float). The downcast (round to nearest even) is what the stand-in generator
 * uses to write fp16 files.
 */

/** Table of the 65,536 half values as floats: building it costs ~1 ms, and a lookup beats bit twiddling. */
let table: Float32Array | undefined;

function halfTable(): Float32Array {
  if (table) return table;
  table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    let v: number;
    if (exp === 0) v = frac * 2 ** -24;
    else if (exp === 31) v = frac ? NaN : Infinity;
    else v = (1 + frac / 1024) * 2 ** (exp - 15);
    table[h] = sign * v;
  }
  return table;
}

/** Upcasts little-endian half-precision bits to float32 (a new array). */
export function halfToFloat(bits: Uint16Array): Float32Array {
  const t = halfTable();
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = t[bits[i]];
  return out;
}

/** Reads `count` halves from bytes that need not be 2-byte aligned. */
export function halfBytesToFloat(bytes: Uint8Array, count: number): Float32Array {
  if (bytes.byteLength !== count * 2) throw new Error(`float16 data of ${bytes.byteLength} bytes does not hold ${count} values`);
  const aligned = bytes.byteOffset % 2 === 0 ? bytes : bytes.slice();
  return halfToFloat(new Uint16Array(aligned.buffer, aligned.byteOffset, count));
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** One float to half bits, rounding to nearest even; overflow gives ±Infinity, as numpy's astype(float16). */
export function floatToHalfBits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let h = mant >>> shift;
    if (rest > half || (rest === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++;
  return sign | h; // a carry into the exponent is the correct rounding, up to Infinity
}

export function floatToHalf(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = floatToHalfBits(values[i]);
  return out;
}
