import { encodeKernel, type BufferRef } from '../../gpu/dispatch';
import { u32 } from '../../gpu/uniforms';
import { elementGrid } from '../common/grid';
import type { EmbeddingDims } from './cpu';
import { embeddingForwardWgsl } from './wgsl';

/** out[b,t] = table[ids[b,t]] + pos[posOffset+t]; `ids` is a u32 buffer of b·t token ids. */
export function encodeEmbeddingForward(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  buf: { table: BufferRef; pos: BufferRef; ids: BufferRef; out: BufferRef },
  dims: EmbeddingDims,
): void {
  encodeKernel(device, pass, {
    key: 'embedding:fwd',
    code: embeddingForwardWgsl,
    params: [u32(dims.b), u32(dims.t), u32(dims.d), u32(dims.posOffset ?? 0)],
    buffers: [buf.table, buf.pos, buf.ids, buf.out],
    workgroups: elementGrid(dims.b * dims.t * dims.d),
  });
}
