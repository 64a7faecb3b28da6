import { l2NormalizeFlops } from '../flops';
import { encodeKernel, type BufferRef } from '../../gpu/dispatch';
import { u32 } from '../../gpu/uniforms';
import { rowGrid } from '../common/grid';
import { l2NormalizeBackwardWgsl, l2NormalizeForwardWgsl } from './wgsl';

export function encodeL2NormalizeForward(device: GPUDevice, pass: GPUComputePassEncoder, buf: { x: BufferRef; y: BufferRef }, d: { rows: number; d: number }): void {
  encodeKernel(device, pass, {
    key: 'l2norm:fwd',
    code: l2NormalizeForwardWgsl,
    params: [u32(d.rows), u32(d.d), u32(0), u32(0)],
    buffers: [buf.x, buf.y],
    workgroups: rowGrid(d.rows),
    flops: l2NormalizeFlops.forward(d.rows, d.d),
  });
}

/** dx from dy and the forward input x (norm recomputed). */
export function encodeL2NormalizeBackward(device: GPUDevice, pass: GPUComputePassEncoder, buf: { dy: BufferRef; x: BufferRef; dx: BufferRef }, d: { rows: number; d: number }): void {
  encodeKernel(device, pass, {
    key: 'l2norm:bwd',
    code: l2NormalizeBackwardWgsl,
    params: [u32(d.rows), u32(d.d), u32(0), u32(0)],
    buffers: [buf.dy, buf.x, buf.dx],
    workgroups: rowGrid(d.rows),
    flops: l2NormalizeFlops.backward(d.rows, d.d),
  });
}
