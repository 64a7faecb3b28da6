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
}

export function encodeKernel(device: GPUDevice, pass: GPUComputePassEncoder, d: KernelDispatch): void {
  const [x, y = 1, z = 1] = d.workgroups;
  if (x === 0 || y === 0 || z === 0) return;
  for (const n of [x, y, z]) {
    if (n > MAX_WORKGROUPS_PER_DIM) throw new Error(`${d.key}: ${n} workgroups in one dimension exceeds ${MAX_WORKGROUPS_PER_DIM}`);
  }
  const pipeline = getPipeline(device, d.key, d.code);
  const entries: GPUBindGroupEntry[] = [];
  let binding = 0;
  if (d.params) entries.push({ binding: binding, resource: { buffer: uniformParams(device, d.params) } });
  binding = 1;
  for (const b of d.buffers) {
    entries.push({ binding: binding++, resource: isBinding(b) ? b : { buffer: b } });
  }
  const bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(x, y, z);
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
