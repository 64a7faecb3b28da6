import { encodeKernel, type BufferRef } from '../../gpu/dispatch';
import { f32, u32 } from '../../gpu/uniforms';
import { rowGrid } from '../common/grid';
import { encodeMatmul } from '../matmul/gpu';
import type { CosineCEDims } from './cpu';
import { ceBackwardWgsl, ceRowsWgsl, meanWgsl } from './wgsl';

/**
 * logits = scale·img·txtᵀ, lse[n], rowLoss[n], loss[0] = mean CE.
 * Buffers: img [N,E], txt [K,E], labels u32 [N], logits [N,K], lse [N], rowLoss [N], loss [1].
 */
export function encodeCosineCEForward(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  buf: { img: BufferRef; txt: BufferRef; labels: BufferRef; logits: BufferRef; lse: BufferRef; rowLoss: BufferRef; loss: BufferRef },
  d: CosineCEDims,
): void {
  encodeMatmul(device, pass, { a: buf.img, b: buf.txt, c: buf.logits }, { m: d.n, n: d.k, k: d.e, transB: true, alpha: d.scale });
  encodeKernel(device, pass, {
    key: 'cosineCE:rows',
    code: ceRowsWgsl,
    params: [u32(d.n), u32(d.k), u32(0), u32(0)],
    buffers: [buf.logits, buf.labels, buf.lse, buf.rowLoss],
    workgroups: rowGrid(d.n),
  });
  encodeKernel(device, pass, {
    key: 'cosineCE:mean',
    code: meanWgsl,
    params: [u32(d.n), u32(0), u32(0), u32(0)],
    buffers: [buf.rowLoss, buf.loss],
    workgroups: [1],
  });
}

/** dLogits [N,K] (scratch, overwritten) and dTxt [K,E] = scale·dLogitsᵀ·img (overwritten, or added with `accumulate`). */
export function encodeCosineCEBackward(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  buf: { img: BufferRef; logits: BufferRef; lse: BufferRef; labels: BufferRef; dLogits: BufferRef; dTxt: BufferRef },
  d: CosineCEDims & { gLoss?: number; accumulate?: boolean },
): void {
  encodeKernel(device, pass, {
    key: 'cosineCE:bwd',
    code: ceBackwardWgsl,
    params: [u32(d.n), u32(d.k), f32(d.gLoss ?? 1), u32(0)],
    buffers: [buf.logits, buf.lse, buf.labels, buf.dLogits],
    workgroups: rowGrid(d.n),
  });
  encodeMatmul(device, pass, { a: buf.dLogits, b: buf.img, c: buf.dTxt }, { m: d.k, n: d.e, k: d.n, transA: true, alpha: d.scale, accumulate: d.accumulate });
}
