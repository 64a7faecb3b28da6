import { like, type Arr } from '../tensor';

/**
 * Causal multi-head attention over B prompts that may share a prefix.
 *
 * Own tensors are [B,T,D] with D = H·dh (head h uses columns h·dh..h·dh+dh-1).
 * The shared prefix K_p/V_p [P,D] is the same for every prompt and sits at
 * absolute positions 0..P-1, so own position i (absolute P+i) attends to all
 * P prefix positions and own positions 0..i. The prefix's own queries are not
 * computed here: their outputs do not depend on any prompt, so the engine runs
 * the prefix once (as a plain P-long causal sequence) and only hands its K/V in.
 */
export interface AttentionDims {
  b: number;
  t: number;
  /** Shared-prefix length; 0 is plain causal attention. */
  p: number;
  h: number;
  dh: number;
}

export interface AttentionInputs {
  q: Arr;
  k: Arr;
  v: Arr;
  /** [P,D]; may be omitted when P = 0. */
  kp?: Arr;
  vp?: Arr;
}

export function attentionForwardCpu(x: AttentionInputs, dims: AttentionDims): Arr {
  const { b, t, p, h, dh } = dims;
  const d = h * dh;
  const o = like(x.q, b * t * d);
  const s = new Float64Array(p + t);
  for (let bi = 0; bi < b; bi++) {
    for (let hi = 0; hi < h; hi++) {
      const col = hi * dh;
      for (let i = 0; i < t; i++) {
        const qo = (bi * t + i) * d + col;
        const n = p + i + 1;
        const l = unnormalizedSoftmaxRow(x, dims, bi, qo, col, n, s);
        for (let c = 0; c < dh; c++) {
          let acc = 0;
          for (let j = 0; j < n; j++) {
            const [vArr, vo] = valueRow(x, dims, bi, j, col);
            acc += s[j] * vArr[vo + c];
          }
          o[qo + c] = acc / l;
        }
      }
    }
  }
  return o;
}

export interface AttentionGrads {
  dq: Arr;
  dk: Arr;
  dv: Arr;
  /** Summed over the B prompts; length 0 when P = 0. */
  dkp: Arr;
  dvp: Arr;
}

/**
 * Gradients w.r.t. own Q/K/V and the shared prefix K_p/V_p. The prefix is one
 * tensor used by every prompt, so its gradient is the sum of each prompt's
 * contribution — exactly what B copies of the prefix would receive, summed.
 * Needs the forward output o (for Δ_i = dO_i·O_i); the softmax is recomputed.
 */
export function attentionBackwardCpu(x: AttentionInputs, o: Arr, dO: Arr, dims: AttentionDims): AttentionGrads {
  const { b, t, p, h, dh } = dims;
  const d = h * dh;
  const scale = 1 / Math.sqrt(dh);
  const dq = like(x.q, b * t * d);
  const dk = like(x.q, b * t * d);
  const dv = like(x.q, b * t * d);
  const dkp = like(x.q, p * d);
  const dvp = like(x.q, p * d);
  const pr = new Float64Array(p + t);
  for (let bi = 0; bi < b; bi++) {
    for (let hi = 0; hi < h; hi++) {
      const col = hi * dh;
      for (let i = 0; i < t; i++) {
        const qo = (bi * t + i) * d + col;
        const n = p + i + 1;
        const l = unnormalizedSoftmaxRow(x, dims, bi, qo, col, n, pr);
        let delta = 0;
        for (let c = 0; c < dh; c++) delta += dO[qo + c] * o[qo + c];
        for (let j = 0; j < n; j++) {
          const pj = pr[j] / l;
          const own = j >= p;
          const [kArr, ko] = keyRow(x, dims, bi, j, col);
          const [vArr, vo] = valueRow(x, dims, bi, j, col);
          let dp = 0;
          for (let c = 0; c < dh; c++) dp += dO[qo + c] * vArr[vo + c];
          const ds = pj * (dp - delta);
          const dkArr = own ? dk : dkp;
          const dvArr = own ? dv : dvp;
          const go = own ? (bi * t + j - p) * d + col : j * d + col;
          for (let c = 0; c < dh; c++) {
            dq[qo + c] += scale * ds * kArr[ko + c];
            dkArr[go + c] += scale * ds * x.q[qo + c];
            dvArr[go + c] += pj * dO[qo + c];
          }
        }
      }
    }
  }
  return { dq, dk, dv, dkp, dvp };
}

/**
 * exp(q·k_j/√dh − max) for the n keys query row `qo` sees, into `out[0..n)`; returns their sum. Forward and backward
 * share it: backward recomputes the probabilities rather than storing a [T, P+T] matrix per head.
 */
function unnormalizedSoftmaxRow(x: AttentionInputs, dims: AttentionDims, bi: number, qo: number, col: number, n: number, out: Float64Array): number {
  const scale = 1 / Math.sqrt(dims.dh);
  let m = -Infinity;
  for (let j = 0; j < n; j++) {
    const [kArr, ko] = keyRow(x, dims, bi, j, col);
    let acc = 0;
    for (let c = 0; c < dims.dh; c++) acc += x.q[qo + c] * kArr[ko + c];
    out[j] = acc * scale;
    m = Math.max(m, out[j]);
  }
  let l = 0;
  for (let j = 0; j < n; j++) {
    out[j] = Math.exp(out[j] - m);
    l += out[j];
  }
  return l;
}

function keyRow(x: AttentionInputs, dims: AttentionDims, bi: number, j: number, col: number): [Arr, number] {
  const d = dims.h * dims.dh;
  return j < dims.p ? [x.kp!, j * d + col] : [x.k, (bi * dims.t + j - dims.p) * d + col];
}

function valueRow(x: AttentionInputs, dims: AttentionDims, bi: number, j: number, col: number): [Arr, number] {
  const d = dims.h * dims.dh;
  return j < dims.p ? [x.vp!, j * d + col] : [x.v, (bi * dims.t + j - dims.p) * d + col];
}
