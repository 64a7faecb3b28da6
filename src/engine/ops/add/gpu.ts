import { encodeKernel, type BufferRef } from '../../gpu/dispatch';
import { u32 } from '../../gpu/uniforms';
import { elementGrid } from '../common/grid';
import { addWgsl } from './wgsl';

/** out = a + b (out must not alias a or b; use `encodeAddInPlace` for that). */
export function encodeAdd(device: GPUDevice, pass: GPUComputePassEncoder, buf: { a: BufferRef; b: BufferRef; out: BufferRef }, n: number): void {
  encodeKernel(device, pass, {
    key: 'add:out',
    code: () => addWgsl(false),
    params: [u32(n), u32(0), u32(0), u32(0)],
    buffers: [buf.a, buf.b, buf.out],
    workgroups: elementGrid(n),
    flops: n,
  });
}

/** a += b. */
export function encodeAddInPlace(device: GPUDevice, pass: GPUComputePassEncoder, buf: { a: BufferRef; b: BufferRef }, n: number): void {
  encodeKernel(device, pass, {
    key: 'add:inPlace',
    code: () => addWgsl(true),
    params: [u32(n), u32(0), u32(0), u32(0)],
    buffers: [buf.a, buf.b],
    workgroups: elementGrid(n),
    flops: n,
  });
}
