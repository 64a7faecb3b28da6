import { matmulFlops } from '../flops';
import { encodeKernel, type BufferRef } from '../../gpu/dispatch';
import { f32, u32 } from '../../gpu/uniforms';
import { matmulKey, matmulVec4Depth, matmulVec4Key, matmulVec4Wgsl, matmulWgsl, MATMUL_TILE } from './wgsl';
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
  /**
   * 'auto' (default): the register-blocked vec4 kernel where the shape allows it (`matmulVec4Fits`) and B is not
   * transposed, else the scalar tiled one; 'tiled' forces the scalar kernel (the bench compares both), 'vec4'
   * requires the vec4 one. Measured side by side on an H200 (bench/results/h200-2026-11-30): vec4 is 1.3–1.6× the
   * tiled kernel for X·W (16–25 TFLOP/s) but 0.5× for dY·Wᵀ (1.6 vs 3.0 TFLOP/s, 7.0 vs 13.6), whose strided B
   * loads it does not coalesce.
   */
  kernel?: MatmulKernel;
}

export type MatmulKernel = 'auto' | 'tiled' | 'vec4';

function aligned(b: BufferRef): boolean {
  const r = b as GPUBufferBinding;
  return typeof (b as GPUBuffer).mapAsync === 'function' || (((r.offset ?? 0) % 16 === 0) && (r.size === undefined || r.size % 16 === 0));
}

/**
 * Whether the vec4 kernel computes this product: every operand read and written as vec4 needs K and N
 * multiples of 4 (so every row starts on a vec4), batch strides multiples of 4, vec4-aligned buffer ranges,
 * no transA, and workgroup storage for at least 16-deep tiles (8 KiB).
 */
export function matmulVec4Fits(device: GPUDevice, buf: MatmulBuffers, o: MatmulShape): boolean {
  const batch = o.batch ?? 1;
  const strides = batch === 1 ? [] : [o.strideA ?? o.m * o.k, o.strideB ?? o.k * o.n, o.strideC ?? o.m * o.n];
  return !o.transA && o.k % 4 === 0 && o.n % 4 === 0 && strides.every((s) => s % 4 === 0)
    && [buf.a, buf.b, buf.c, buf.bias, buf.residual, buf.gelu, buf.geluGradOf].every((b) => !b || aligned(b))
    && vec4Depth(device) > 0;
}

const depths = new WeakMap<GPUDevice, number>();
function vec4Depth(device: GPUDevice): number {
  let tk = depths.get(device);
  if (tk === undefined) {
    const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo & { isFallbackAdapter?: boolean } }).adapterInfo;
    tk = matmulVec4Depth({ maxWorkgroupStorage: device.limits.maxComputeWorkgroupStorageSize, fallbackAdapter: !!info?.isFallbackAdapter });
    depths.set(device, tk);
  }
  return tk;
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
  const kernel = o.kernel ?? 'auto';
  const vec4 = kernel === 'vec4' ? matmulVec4Fits(device, buf, o) : kernel === 'auto' && !o.transB && matmulVec4Fits(device, buf, o);
  if (kernel === 'vec4' && !vec4) throw new Error(`matmul: the vec4 kernel needs K and N multiples of 4, no transA and aligned buffers (m ${o.m}, n ${o.n}, k ${o.k}, transA ${!!o.transA})`);
  const tk = vec4 ? vec4Depth(device) : 0;
  encodeKernel(device, pass, {
    key: vec4 ? matmulVec4Key(variant, tk) : matmulKey(variant),
    code: vec4 ? () => matmulVec4Wgsl(variant, tk) : () => matmulWgsl(variant),
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
