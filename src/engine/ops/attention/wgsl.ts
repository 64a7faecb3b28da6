import { WGSL_ROW_REDUCE } from '../common/wgsl';

/**
 * Attention kernels. Each binds at most 8 storage buffers (WebGPU's default
 * maxStorageBuffersPerShaderStage), which is why backward is split in four
 * and why the softmax is recomputed in backward instead of reading saved
 * row statistics: that would be a ninth buffer, while recomputing costs one
 * extra max/sum over ≤ P+T scores per row.
 *
 * Workgroup per query row (forward, backward rows, dQ) or per key row
 * (dK/dV, prefix dK/dV); 64 threads spread over keys for scores and over
 * head dims for outputs, so reads of V/K/Q rows are contiguous across threads.
 */
export const ATTN_MAX_DH = 256;
export const ATTN_MAX_KEYS = 1024;

const PARAMS = /* wgsl */ `
struct Params { B: u32, T: u32, P: u32, H: u32, dh: u32, D: u32, L: u32, scale: f32 }
@group(0) @binding(0) var<uniform> p: Params;
`;

// Scores for query row (b, i) of head column `col` into sc[0..n), softmax-normalised in place.
// Expects qs (the query row) in workgroup memory; returns nothing, leaves sc = probabilities.
const SOFTMAX_ROW = /* wgsl */ `
fn keyDot(b: u32, j: u32, col: u32) -> f32 {
  var s = 0.0;
  if (j < p.P) {
    let base = j * p.D + col;
    for (var c = 0u; c < p.dh; c++) { s += qs[c] * kp[base + c]; }
  } else {
    let base = (b * p.T + j - p.P) * p.D + col;
    for (var c = 0u; c < p.dh; c++) { s += qs[c] * k[base + c]; }
  }
  return s * p.scale;
}

fn softmaxRow(lidx: u32, b: u32, n: u32, col: u32) {
  var m = -3.4e38;
  for (var j = lidx; j < n; j += WG) {
    let s = keyDot(b, j, col);
    sc[j] = s;
    m = max(m, s);
  }
  m = reduceMax(lidx, m);
  var l = 0.0;
  for (var j = lidx; j < n; j += WG) {
    let e = exp(sc[j] - m);
    sc[j] = e;
    l += e;
  }
  let inv = 1.0 / reduceSum(lidx, l);
  for (var j = lidx; j < n; j += WG) { sc[j] = sc[j] * inv; }
  workgroupBarrier();
}
`;

const SHARED = /* wgsl */ `
var<workgroup> qs: array<f32, ${ATTN_MAX_DH}>;
var<workgroup> sc: array<f32, ${ATTN_MAX_KEYS}>;
`;

export function attentionForwardWgsl(): string {
  return /* wgsl */ `${PARAMS}
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read> kp: array<f32>;
@group(0) @binding(5) var<storage, read> vp: array<f32>;
@group(0) @binding(6) var<storage, read_write> o: array<f32>;
${WGSL_ROW_REDUCE}
${SHARED}
${SOFTMAX_ROW}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
  let i = wid.x;
  let h = wid.y;
  let b = wid.z;
  let col = h * p.dh;
  let qrow = (b * p.T + i) * p.D + col;
  for (var c = lidx; c < p.dh; c += WG) { qs[c] = q[qrow + c]; }
  workgroupBarrier();
  let n = p.P + i + 1u;
  softmaxRow(lidx, b, n, col);
  for (var c = lidx; c < p.dh; c += WG) {
    var acc = 0.0;
    for (var j = 0u; j < p.P; j++) { acc += sc[j] * vp[j * p.D + col + c]; }
    for (var j = p.P; j < n; j++) { acc += sc[j] * v[(b * p.T + j - p.P) * p.D + col + c]; }
    o[qrow + c] = acc;
  }
}
`;
}

/**
 * Backward, per query row: probabilities P_ij and dS_ij = P_ij·(dO_i·V_j - Δ_i),
 * Δ_i = dO_i·O_i, into scratch = [P | dS], each [B,H,T,L] (L = P+T; entries
 * past the causal limit are never written nor read).
 */
export function attentionBackwardRowsWgsl(): string {
  return /* wgsl */ `${PARAMS}
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read> kp: array<f32>;
@group(0) @binding(5) var<storage, read> vp: array<f32>;
@group(0) @binding(6) var<storage, read> o: array<f32>;
@group(0) @binding(7) var<storage, read> dO: array<f32>;
@group(0) @binding(8) var<storage, read_write> scratch: array<f32>;
${WGSL_ROW_REDUCE}
${SHARED}
var<workgroup> gs: array<f32, ${ATTN_MAX_DH}>;
${SOFTMAX_ROW}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
  let i = wid.x;
  let h = wid.y;
  let b = wid.z;
  let col = h * p.dh;
  let qrow = (b * p.T + i) * p.D + col;
  var dl = 0.0;
  for (var c = lidx; c < p.dh; c += WG) {
    qs[c] = q[qrow + c];
    let g = dO[qrow + c];
    gs[c] = g;
    dl += g * o[qrow + c];
  }
  let delta = reduceSum(lidx, dl);
  let n = p.P + i + 1u;
  softmaxRow(lidx, b, n, col);
  let rowBase = ((b * p.H + h) * p.T + i) * p.L;
  let dsBase = p.B * p.H * p.T * p.L;
  for (var j = lidx; j < n; j += WG) {
    var dp = 0.0;
    if (j < p.P) {
      let base = j * p.D + col;
      for (var c = 0u; c < p.dh; c++) { dp += gs[c] * vp[base + c]; }
    } else {
      let base = (b * p.T + j - p.P) * p.D + col;
      for (var c = 0u; c < p.dh; c++) { dp += gs[c] * v[base + c]; }
    }
    let pj = sc[j];
    scratch[rowBase + j] = pj;
    scratch[dsBase + rowBase + j] = pj * (dp - delta);
  }
}
`;
}

/** dQ_i = scale·Σ_j dS_ij·K_j, per query row. */
export function attentionBackwardQueryWgsl(): string {
  return /* wgsl */ `${PARAMS}
@group(0) @binding(1) var<storage, read> scratch: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> kp: array<f32>;
@group(0) @binding(4) var<storage, read_write> dq: array<f32>;
const WG = 64u;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
  let i = wid.x;
  let h = wid.y;
  let b = wid.z;
  let col = h * p.dh;
  let n = p.P + i + 1u;
  let dsRow = p.B * p.H * p.T * p.L + ((b * p.H + h) * p.T + i) * p.L;
  for (var c = lidx; c < p.dh; c += WG) {
    var acc = 0.0;
    for (var j = 0u; j < p.P; j++) { acc += scratch[dsRow + j] * kp[j * p.D + col + c]; }
    for (var j = p.P; j < n; j++) { acc += scratch[dsRow + j] * k[(b * p.T + j - p.P) * p.D + col + c]; }
    dq[(b * p.T + i) * p.D + col + c] = p.scale * acc;
  }
}
`;
}

/**
 * dK_j = scale·Σ_i dS_ij·Q_i and dV_j = Σ_i P_ij·dO_i, per key row.
 * Own keys (prefix = false): workgroup (j, h, b), sum over the prompt's queries i ≥ j.
 * Prefix keys (prefix = true): workgroup (j, h), sum over every prompt and query —
 * the shared prefix's gradient, reduced in a fixed order (no float atomics in WGSL).
 */
export function attentionBackwardKeysWgsl(prefix: boolean): string {
  const loop = prefix
    ? `for (var b = 0u; b < p.B; b++) {
      for (var i = 0u; i < p.T; i++) {
        let r = ((b * p.H + h) * p.T + i) * p.L + j;
        let qo = (b * p.T + i) * p.D + col + c;
        accK += scratch[dsBase + r] * q[qo];
        accV += scratch[r] * dO[qo];
      }
    }
    let dst = j * p.D + col + c;`
    : `let b = wid.z;
    for (var i = j; i < p.T; i++) {
      let r = ((b * p.H + h) * p.T + i) * p.L + p.P + j;
      let qo = (b * p.T + i) * p.D + col + c;
      accK += scratch[dsBase + r] * q[qo];
      accV += scratch[r] * dO[qo];
    }
    let dst = (b * p.T + j) * p.D + col + c;`;
  return /* wgsl */ `${PARAMS}
@group(0) @binding(1) var<storage, read> scratch: array<f32>;
@group(0) @binding(2) var<storage, read> q: array<f32>;
@group(0) @binding(3) var<storage, read> dO: array<f32>;
@group(0) @binding(4) var<storage, read_write> dk: array<f32>;
@group(0) @binding(5) var<storage, read_write> dv: array<f32>;
const WG = 64u;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
  let j = wid.x;
  let h = wid.y;
  let col = h * p.dh;
  let dsBase = p.B * p.H * p.T * p.L;
  for (var c = lidx; c < p.dh; c += WG) {
    var accK = 0.0;
    var accV = 0.0;
    ${loop}
    dk[dst] = p.scale * accK;
    dv[dst] = accV;
  }
}
`;
}
