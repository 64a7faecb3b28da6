import type { BufferRef } from '../../gpu/dispatch';
import { encodeMatmul } from '../matmul/gpu';

export interface LinearDims {
  n: number;
  inDim: number;
  outDim: number;
}

/**
 * Y = X·W + b. With `accumulate`, Y += X·W + b. Fused epilogues: `residual` gives Y = R + X·W + b (the
 * transformer's residual add in the same pass); `gelu` also writes G = QuickGELU(Y) (fc1 + activation).
 */
export function encodeLinearForward(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  buf: { x: BufferRef; w: BufferRef; b?: BufferRef; y: BufferRef; residual?: BufferRef; gelu?: BufferRef },
  d: LinearDims & { accumulate?: boolean },
): void {
  encodeMatmul(device, pass, { a: buf.x, b: buf.w, c: buf.y, bias: buf.b, residual: buf.residual, gelu: buf.gelu }, { m: d.n, n: d.outDim, k: d.inDim, accumulate: d.accumulate });
}

/** dX = dY·Wᵀ (W read as [in,out], no transposed copy). With `accumulate`, dX += dY·Wᵀ. */
export function encodeLinearBackward(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  buf: { dy: BufferRef; w: BufferRef; dx: BufferRef; geluGradOf?: BufferRef },
  d: LinearDims & { accumulate?: boolean },
): void {
  // With `geluGradOf` (the pre-activation F), dX = (dY·Wᵀ) ⊙ QuickGELU'(F): fc2's backward and the activation's in one pass.
  encodeMatmul(device, pass, { a: buf.dy, b: buf.w, c: buf.dx, geluGradOf: buf.geluGradOf }, { m: d.n, n: d.inDim, k: d.outDim, transB: true, accumulate: d.accumulate });
}
