/**
 * Kernel parameters (sizes, scales) as small immutable uniform buffers,
 * cached by content. A training loop dispatches the same shapes every step,
 * so after the first step no uniform buffer is ever created or written, and
 * because the buffers never change there are no write-after-use hazards
 * between queued dispatches.
 */
export type ParamValue = { u32: number } | { f32: number } | { i32: number };

const caches = new WeakMap<GPUDevice, { map: Map<string, GPUBuffer>; bytes: number }>();
const MAX_ENTRIES = 4096;

/** Packs values as 32-bit words, padded to 16 bytes as uniform structs require. */
export function packParams(values: ParamValue[]): Uint32Array {
  const words = new Uint32Array(Math.max(4, Math.ceil(values.length / 4) * 4));
  const f = new Float32Array(words.buffer);
  const i = new Int32Array(words.buffer);
  values.forEach((v, k) => {
    if ('u32' in v) words[k] = v.u32 >>> 0;
    else if ('i32' in v) i[k] = v.i32 | 0;
    else f[k] = v.f32;
  });
  return words;
}

export function u32(v: number): ParamValue {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`u32 param out of range: ${v}`);
  return { u32: v };
}
export function f32(v: number): ParamValue {
  return { f32: v };
}

export function uniformParams(device: GPUDevice, values: ParamValue[]): GPUBuffer {
  const words = packParams(values);
  const key = Array.prototype.join.call(words, ',');
  let cache = caches.get(device);
  if (!cache) {
    cache = { map: new Map(), bytes: 0 };
    caches.set(device, cache);
  }
  const hit = cache.map.get(key);
  if (hit) return hit;
  if (cache.map.size >= MAX_ENTRIES) {
    // Shapes in a session are few; overflowing means the caller varies params
    // per call. Dropping the cache (without destroying buffers that queued
    // work may still use) keeps memory bounded.
    cache.map.clear();
    cache.bytes = 0;
  }
  const buffer = device.createBuffer({
    size: words.byteLength,
    usage: 0x40 /* UNIFORM */,
    mappedAtCreation: true,
    label: 'params',
  });
  new Uint32Array(buffer.getMappedRange()).set(words);
  buffer.unmap();
  cache.map.set(key, buffer);
  cache.bytes += words.byteLength;
  return buffer;
}

/** Bytes held by the uniform cache of `device` (tiny, but the engine reports all of its memory). */
export function uniformBytes(device: GPUDevice): number {
  return caches.get(device)?.bytes ?? 0;
}
