import { encodeKernel, type BufferRef } from '../../gpu/dispatch';
import { u32 } from '../../gpu/uniforms';
import { elementGrid } from '../common/grid';
import { gatherRowsBackwardWgsl, gatherRowsForwardWgsl } from './wgsl';

export interface GatherDims {
  b: number;
  t: number;
  d: number;
}

/** out[b] = X[b, idx[b]]; idx is a u32 buffer of length b. */
export function encodeGatherRowsForward(device: GPUDevice, pass: GPUComputePassEncoder, buf: { x: BufferRef; idx: BufferRef; out: BufferRef }, g: GatherDims): void {
  encodeKernel(device, pass, {
    key: 'gatherRows:fwd',
    code: gatherRowsForwardWgsl,
    params: [u32(g.b), u32(g.t), u32(g.d), u32(0)],
    buffers: [buf.x, buf.idx, buf.out],
    workgroups: elementGrid(g.b * g.d),
  });
}

/** dX [B,T,D] fully overwritten: dOut rows at idx, zeros elsewhere. */
export function encodeGatherRowsBackward(device: GPUDevice, pass: GPUComputePassEncoder, buf: { dOut: BufferRef; idx: BufferRef; dx: BufferRef }, g: GatherDims): void {
  encodeKernel(device, pass, {
    key: 'gatherRows:bwd',
    code: gatherRowsBackwardWgsl,
    params: [u32(g.b), u32(g.t), u32(g.d), u32(0)],
    buffers: [buf.dOut, buf.idx, buf.dx],
    workgroups: elementGrid(g.b * g.t * g.d),
  });
}
