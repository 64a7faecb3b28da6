import type { BufferRef } from '../../gpu/dispatch';
import { encodeMatmul } from '../matmul/gpu';

export interface LinearDims {
  n: number;
  inDim: number;
  outDim: number;
}

/** Y = X·W + b. With `accumulate`, Y += X·W + b (e.g. straight into a residual stream). */
export function encodeLinearForward(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  buf: { x: BufferRef; w: BufferRef; b?: BufferRef; y: BufferRef },
  d: LinearDims & { accumulate?: boolean },
): void {
  encodeMatmul(device, pass, { a: buf.x, b: buf.w, c: buf.y, bias: buf.b }, { m: d.n, n: d.outDim, k: d.inDim, accumulate: d.accumulate });
}

/** dX = dY·Wᵀ (W read as [in,out], no transposed copy). With `accumulate`, dX += dY·Wᵀ. */
export function encodeLinearBackward(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  buf: { dy: BufferRef; w: BufferRef; dx: BufferRef },
  d: LinearDims & { accumulate?: boolean },
): void {
  encodeMatmul(device, pass, { a: buf.dy, b: buf.w, c: buf.dx }, { m: d.n, n: d.inDim, k: d.outDim, transB: true, accumulate: d.accumulate });
}
