/**
 * Binding and dispatch plumbing shared by every op wrapper.
 *
 * Kernels declare the uniform params at @binding(0) (when they have any) and
 * their storage buffers at @binding(1..) in the order the wrapper passes them.
 * Layout is 'auto', so every declared binding must be statically used in
 * every variant of a kernel.
 */
import { getPipeline } from './pipelines';
import { uniformParams, type ParamValue } from './uniforms';

/** A whole buffer, or a range of one (offset a multiple of minStorageBufferOffsetAlignment, 256). */
export type BufferRef = GPUBuffer | GPUBufferBinding;

export const MAX_WORKGROUPS_PER_DIM = 65535;

export interface KernelDispatch {
  key: string;
  code: () => string;
  params?: ParamValue[];
  buffers: BufferRef[];
  workgroups: [number, number?, number?];
  /** Floating-point operations of this dispatch (multiply-add = 2), for the per-kernel profile. */
  flops?: number;
}

/** What a listener sees of each dispatch: enough to count it, or to replay it alone for the profile. */
export interface RecordedDispatch {
  key: string;
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  workgroups: [number, number, number];
  flops: number;
  /** The compute pass's label (the text engine names its passes: 'loss', 'chunk 0 forward', …). */
  pass: string;
}

const listeners = new WeakMap<GPUDevice, Set<(d: RecordedDispatch) => void>>();

/** Calls `fn` for every dispatch encoded on `device` until the returned function is called. */
export function onDispatch(device: GPUDevice, fn: (d: RecordedDispatch) => void): () => void {
  let set = listeners.get(device);
  if (!set) listeners.set(device, (set = new Set()));
  set.add(fn);
  return () => set.delete(fn);
}

// Bind groups made once per (kernel, uniform buffer, storage buffers and ranges) and reused: a training step
// encodes the same dispatches on the same buffers every time, so after the first step none is created.
const bufferIds = new WeakMap<GPUBuffer, number>();
let nextBufferId = 1;
const bindGroupCaches = new WeakMap<GPUDevice, Map<string, GPUBindGroup>>();
// Buffers of a layout the engine dropped never come back (ids are not reused), so the cache is cleared when full.
const MAX_BIND_GROUPS = 8192;

function bufferId(b: GPUBuffer): number {
  let id = bufferIds.get(b);
  if (id === undefined) bufferIds.set(b, (id = nextBufferId++));
  return id;
}

function refKey(b: BufferRef): string {
  if (!isBinding(b)) return String(bufferId(b));
  return `${bufferId(b.buffer)}@${b.offset ?? 0}+${b.size ?? ''}`;
}

function bindGroupFor(device: GPUDevice, pipeline: GPUComputePipeline, d: KernelDispatch): GPUBindGroup {
  const uniform = d.params ? uniformParams(device, d.params) : undefined;
  const key = `${d.key}|${uniform ? bufferId(uniform) : '-'}|${d.buffers.map(refKey).join(',')}`;
  let cache = bindGroupCaches.get(device);
  if (!cache) bindGroupCaches.set(device, (cache = new Map()));
  const hit = cache.get(key);
  if (hit) return hit;
  const entries: GPUBindGroupEntry[] = [];
  if (uniform) entries.push({ binding: 0, resource: { buffer: uniform } });
  let binding = 1;
  for (const b of d.buffers) entries.push({ binding: binding++, resource: isBinding(b) ? b : { buffer: b } });
  const bindGroup = device.createBindGroup({ label: d.key, layout: pipeline.getBindGroupLayout(0), entries });
  if (cache.size >= MAX_BIND_GROUPS) cache.clear();
  cache.set(key, bindGroup);
  return bindGroup;
}

/** Bind groups cached on `device` (tests check that a repeated step creates none). */
export function bindGroupCount(device: GPUDevice): number {
  return bindGroupCaches.get(device)?.size ?? 0;
}

export function encodeKernel(device: GPUDevice, pass: GPUComputePassEncoder, d: KernelDispatch): void {
  const [x, y = 1, z = 1] = d.workgroups;
  if (x === 0 || y === 0 || z === 0) return;
  for (const n of [x, y, z]) {
    if (n > MAX_WORKGROUPS_PER_DIM) throw new Error(`${d.key}: ${n} workgroups in one dimension exceeds ${MAX_WORKGROUPS_PER_DIM}`);
  }
  const pipeline = getPipeline(device, d.key, d.code);
  const bindGroup = bindGroupFor(device, pipeline, d);
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(x, y, z);
  const ls = listeners.get(device);
  if (ls?.size) for (const fn of ls) fn({ key: d.key, pipeline, bindGroup, workgroups: [x, y, z], flops: d.flops ?? 0, pass: pass.label });
}

function isBinding(b: BufferRef): b is GPUBufferBinding {
  return typeof (b as GPUBuffer).mapAsync !== 'function';
}

/**
 * Spreads `count` workgroups over x and y so that large counts stay under the
 * per-dimension limit. Kernels recover the flat index with `flatWorkgroupIndex`.
 */
export function grid(count: number): [number, number] {
  if (count <= MAX_WORKGROUPS_PER_DIM) return [count, 1];
  const y = Math.ceil(count / MAX_WORKGROUPS_PER_DIM);
  return [Math.ceil(count / y), y];
}

/** WGSL counterpart of `grid`: flat workgroup index from workgroup_id and num_workgroups. */
export const WGSL_FLAT_WORKGROUP = /* wgsl */ `
fn flatWorkgroupIndex(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return wid.y * nwg.x + wid.x;
}
`;

/** Records a compute pass and submits it: the convenience path for tests, benchmarks and one-off work. */
export function submitPass(device: GPUDevice, record: (pass: GPUComputePassEncoder) => void, label = 'ops'): void {
  const encoder = device.createCommandEncoder({ label });
  const pass = encoder.beginComputePass({ label });
  record(pass);
  pass.end();
  device.queue.submit([encoder.finish()]);
}

/**
 * A 4-byte storage buffer per device, bound where a kernel declares an input
 * that a given call does not have (e.g. no shared prefix): 'auto' layouts
 * still need something at every statically used binding.
 */
const placeholders = new WeakMap<GPUDevice, GPUBuffer>();
export function placeholderBuffer(device: GPUDevice): GPUBuffer {
  let b = placeholders.get(device);
  if (!b) {
    b = device.createBuffer({ size: 16, usage: 0x80 /* STORAGE */, label: 'placeholder' });
    placeholders.set(device, b);
  }
  return b;
}
