import { encodeKernel, type BufferRef } from '../../gpu/dispatch';
import { u32 } from '../../gpu/uniforms';
import { elementGrid } from '../common/grid';
import type { DeepTokenDims } from './cpu';
import { deepTokensCollectWgsl, deepTokensReplaceWgsl } from './wgsl';

function params(g: DeepTokenDims) {
  return [u32(g.b), u32(g.s), u32(g.d), u32(g.m), u32(g.offset), u32(g.r0), u32(g.perRow ? 1 : 0), u32(0)];
}

/** deepTokensReplaceCpu on the GPU: x [B, S, D] overwritten in place at the replaced positions. */
export function encodeDeepTokensReplace(device: GPUDevice, pass: GPUComputePassEncoder, buf: { tokens: BufferRef; x: BufferRef }, g: DeepTokenDims): void {
  encodeKernel(device, pass, { key: 'deepTokens:replace', code: deepTokensReplaceWgsl, params: params(g), buffers: [buf.tokens, buf.x], workgroups: elementGrid(g.b * g.m * g.d) });
}

/** deepTokensCollectCpu on the GPU: grad accumulates, dX is zeroed at the replaced positions. */
export function encodeDeepTokensCollect(device: GPUDevice, pass: GPUComputePassEncoder, buf: { dx: BufferRef; grad: BufferRef }, g: DeepTokenDims): void {
  encodeKernel(device, pass, {
    key: 'deepTokens:collect',
    code: deepTokensCollectWgsl,
    params: params(g),
    buffers: [buf.dx, buf.grad],
    workgroups: elementGrid((g.perRow ? g.b : 1) * g.m * g.d),
  });
}
