import { layerNormFlops } from '../flops';
import { encodeKernel, type BufferRef } from '../../gpu/dispatch';
import { f32, u32 } from '../../gpu/uniforms';
import { rowGrid } from '../common/grid';
import { LAYER_NORM_EPS } from './cpu';
import { layerNormBackwardWgsl, layerNormForwardWgsl } from './wgsl';

/** y = LN(x); also writes mean[rows] and rstd[rows], which backward needs. */
export function encodeLayerNormForward(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  buf: { x: BufferRef; gamma: BufferRef; beta: BufferRef; y: BufferRef; mean: BufferRef; rstd: BufferRef },
  d: { rows: number; d: number; eps?: number },
): void {
  encodeKernel(device, pass, {
    key: 'layerNorm:fwd',
    code: layerNormForwardWgsl,
    params: [u32(d.rows), u32(d.d), f32(d.eps ?? LAYER_NORM_EPS), u32(0)],
    buffers: [buf.x, buf.gamma, buf.beta, buf.y, buf.mean, buf.rstd],
    workgroups: rowGrid(d.rows),
    flops: layerNormFlops.forward(d.rows, d.d),
  });
}

/** dx = LN'(x)ᵀ·dy using the saved mean/rstd; with `accumulate`, dx += that. */
export function encodeLayerNormBackward(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  buf: { dy: BufferRef; x: BufferRef; gamma: BufferRef; mean: BufferRef; rstd: BufferRef; dx: BufferRef },
  d: { rows: number; d: number; accumulate?: boolean },
): void {
  const acc = !!d.accumulate;
  encodeKernel(device, pass, {
    key: `layerNorm:bwd:acc=${+acc}`,
    code: () => layerNormBackwardWgsl(acc),
    params: [u32(d.rows), u32(d.d), u32(0), u32(0)],
    buffers: [buf.dy, buf.x, buf.gamma, buf.mean, buf.rstd, buf.dx],
    workgroups: rowGrid(d.rows),
    flops: layerNormFlops.backward(d.rows, d.d),
  });
}
