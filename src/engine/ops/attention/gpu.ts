import { attentionFlops, attentionPairs } from '../flops';
import { encodeKernel, placeholderBuffer, type BufferRef } from '../../gpu/dispatch';
import { f32, u32, type ParamValue } from '../../gpu/uniforms';
import type { AttentionDims } from './cpu';
import {
  ATTN_MAX_DH,
  ATTN_MAX_KEYS,
  attentionBackwardKeysWgsl,
  attentionBackwardQueryWgsl,
  attentionBackwardRowsWgsl,
  attentionForwardWgsl,
} from './wgsl';

function params(d: AttentionDims): ParamValue[] {
  if (d.dh > ATTN_MAX_DH) throw new Error(`attention: head dim ${d.dh} > ${ATTN_MAX_DH}`);
  if (d.p + d.t > ATTN_MAX_KEYS) throw new Error(`attention: ${d.p + d.t} keys > ${ATTN_MAX_KEYS}`);
  return [u32(d.b), u32(d.t), u32(d.p), u32(d.h), u32(d.dh), u32(d.h * d.dh), u32(d.p + d.t), f32(1 / Math.sqrt(d.dh))];
}

/** Floats of the scratch buffer backward needs: probabilities and dS, each [B,H,T,P+T]. */
export function attentionScratchFloats(d: AttentionDims): number {
  return 2 * d.b * d.h * d.t * (d.p + d.t);
}

export interface AttentionForwardBuffers {
  q: BufferRef;
  k: BufferRef;
  v: BufferRef;
  /** Shared prefix [P,D]; omit when P = 0. */
  kp?: BufferRef;
  vp?: BufferRef;
  o: BufferRef;
}

export function encodeAttentionForward(device: GPUDevice, pass: GPUComputePassEncoder, buf: AttentionForwardBuffers, d: AttentionDims): void {
  const none = placeholderBuffer(device);
  encodeKernel(device, pass, {
    key: 'attention:fwd',
    code: attentionForwardWgsl,
    params: params(d),
    buffers: [buf.q, buf.k, buf.v, buf.kp ?? none, buf.vp ?? none, buf.o],
    workgroups: [d.t, d.h, d.b],
    flops: attentionFlops.forward(d),
  });
}

export interface AttentionBackwardBuffers {
  q: BufferRef;
  k: BufferRef;
  v: BufferRef;
  kp?: BufferRef;
  vp?: BufferRef;
  /** Forward output. */
  o: BufferRef;
  dO: BufferRef;
  /** `attentionScratchFloats(d)` floats; contents are overwritten. */
  scratch: BufferRef;
  dq: BufferRef;
  dk: BufferRef;
  dv: BufferRef;
  /** [P,D], the sum over all B prompts; required when P > 0. */
  dkp?: BufferRef;
  dvp?: BufferRef;
}

/** Writes (overwrites) dq, dk, dv [B,T,D] and, when P > 0, dkp, dvp [P,D]. Four dispatches. */
export function encodeAttentionBackward(device: GPUDevice, pass: GPUComputePassEncoder, buf: AttentionBackwardBuffers, d: AttentionDims): void {
  const none = placeholderBuffer(device);
  const prm = params(d);
  // attentionFlops.backward split over the kernels: scores, dO·V and dS (rows), dQ, then dK/dV over own and prefix keys.
  const pairs = attentionPairs(d);
  const own = (d.t * (d.t + 1)) / 2;
  const hb = d.b * d.h;
  encodeKernel(device, pass, {
    key: 'attention:bwd:rows',
    code: attentionBackwardRowsWgsl,
    params: prm,
    buffers: [buf.q, buf.k, buf.v, buf.kp ?? none, buf.vp ?? none, buf.o, buf.dO, buf.scratch],
    workgroups: [d.t, d.h, d.b],
    flops: hb * pairs * (4 * d.dh + 6),
  });
  encodeKernel(device, pass, {
    key: 'attention:bwd:dq',
    code: attentionBackwardQueryWgsl,
    params: prm,
    buffers: [buf.scratch, buf.k, buf.kp ?? none, buf.dq],
    workgroups: [d.t, d.h, d.b],
    flops: hb * pairs * 2 * d.dh,
  });
  encodeKernel(device, pass, {
    key: 'attention:bwd:keys',
    code: () => attentionBackwardKeysWgsl(false),
    params: prm,
    buffers: [buf.scratch, buf.q, buf.dO, buf.dk, buf.dv],
    workgroups: [d.t, d.h, d.b],
    flops: hb * own * 4 * d.dh,
  });
  if (d.p > 0) {
    if (!buf.dkp || !buf.dvp) throw new Error('attention backward: dkp and dvp are required when P > 0');
    encodeKernel(device, pass, {
      key: 'attention:bwd:prefixKeys',
      code: () => attentionBackwardKeysWgsl(true),
      params: prm,
      buffers: [buf.scratch, buf.q, buf.dO, buf.dkp, buf.dvp],
      workgroups: [d.p, d.h],
      flops: hb * (pairs - own) * 4 * d.dh,
    });
  }
}
