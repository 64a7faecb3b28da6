import { matmulFlops } from '../flops';
import { encodeKernel, type BufferRef } from '../../gpu/dispatch';
import { f32, u32 } from '../../gpu/uniforms';
import { matmulKey, matmulWgsl, MATMUL_TILE } from './wgsl';
import type { MatmulShape } from './cpu';

export interface MatmulBuffers {
  a: BufferRef;
  b: BufferRef;
  /** Output; read as well when `accumulate` is set. Must not alias a or b. */
  c: BufferRef;
  bias?: BufferRef;
  /** Fused epilogue input/output (see MatmulVariant.epilogue): R (residual), G (gelu output) or F (geluGrad). */
  residual?: BufferRef;
  gelu?: BufferRef;
  geluGradOf?: BufferRef;
}

export interface MatmulOptions extends MatmulShape {
  /** C += result instead of C = result. */
  accumulate?: boolean;
}

/**
 * Encodes C = alpha·op(A)·op(B) (+ bias[n]) (+ C). Standalone so that a
 * benchmark can time it directly (FLOPs: `matmulFlops`).
 */
export function encodeMatmul(device: GPUDevice, pass: GPUComputePassEncoder, buf: MatmulBuffers, o: MatmulOptions): void {
  const batch = o.batch ?? 1;
  const extra = buf.residual ?? buf.gelu ?? buf.geluGradOf;
  if ([buf.residual, buf.gelu, buf.geluGradOf].filter(Boolean).length > 1) throw new Error('matmul: one fused epilogue at a time');
  const epilogue = buf.residual ? 'residual' : buf.gelu ? 'gelu' : buf.geluGradOf ? 'geluGrad' : undefined;
  const variant = { transA: !!o.transA, transB: !!o.transB, bias: !!buf.bias, accumulate: !!o.accumulate, epilogue } as const;
  const buffers: BufferRef[] = [buf.a, buf.b, buf.c];
  if (buf.bias) buffers.push(buf.bias);
  if (extra) buffers.push(extra);
  encodeKernel(device, pass, {
    key: matmulKey(variant),
    code: () => matmulWgsl(variant),
    params: [
      u32(o.m), u32(o.n), u32(o.k),
      u32(o.strideA ?? o.m * o.k), u32(o.strideB ?? o.k * o.n), u32(o.strideC ?? o.m * o.n),
      f32(o.alpha ?? 1), u32(0),
    ],
    buffers,
    workgroups: [Math.ceil(o.n / MATMUL_TILE), Math.ceil(o.m / MATMUL_TILE), batch],
    flops: matmulFlops(o.m, o.n, o.k, batch),
  });
}
