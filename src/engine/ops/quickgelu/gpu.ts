import { quickGeluFlops } from '../flops';
import { encodeKernel, type BufferRef } from '../../gpu/dispatch';
import { u32 } from '../../gpu/uniforms';
import { elementGrid } from '../common/grid';
import { quickGeluBackwardWgsl, quickGeluForwardWgsl } from './wgsl';

export function encodeQuickGeluForward(device: GPUDevice, pass: GPUComputePassEncoder, buf: { x: BufferRef; y: BufferRef }, n: number): void {
  encodeKernel(device, pass, {
    key: 'quickGelu:fwd',
    code: quickGeluForwardWgsl,
    params: [u32(n), u32(0), u32(0), u32(0)],
    buffers: [buf.x, buf.y],
    workgroups: elementGrid(n),
    flops: quickGeluFlops.forward(n),
  });
}

/** dx = quickGelu'(x)·dy; dx may not alias dy or x (separate bindings). */
export function encodeQuickGeluBackward(device: GPUDevice, pass: GPUComputePassEncoder, buf: { dy: BufferRef; x: BufferRef; dx: BufferRef }, n: number): void {
  encodeKernel(device, pass, {
    key: 'quickGelu:bwd',
    code: quickGeluBackwardWgsl,
    params: [u32(n), u32(0), u32(0), u32(0)],
    buffers: [buf.dy, buf.x, buf.dx],
    workgroups: elementGrid(n),
    flops: quickGeluFlops.backward(n),
  });
}
