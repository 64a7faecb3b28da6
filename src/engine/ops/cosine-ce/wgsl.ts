import { WGSL_FLAT_INDEX, WGSL_ROW_REDUCE } from '../common/wgsl';

/** Per image row: lse[n] and rowLoss[n] = lse[n] - logits[n, label[n]]. */
export function ceRowsWgsl(): string {
  return /* wgsl */ `
struct Params { n: u32, k: u32, _p0: u32, _p1: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<u32>;
@group(0) @binding(3) var<storage, read_write> lse: array<f32>;
@group(0) @binding(4) var<storage, read_write> rowLoss: array<f32>;
${WGSL_ROW_REDUCE}
${WGSL_FLAT_INDEX}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
  let row = flatRow(wid, nwg);
  if (row >= p.n) { return; }
  let o = row * p.k;
  var m = -3.4e38;
  for (var c = lidx; c < p.k; c += WG) { m = max(m, logits[o + c]); }
  m = reduceMax(lidx, m);
  var s = 0.0;
  for (var c = lidx; c < p.k; c += WG) { s += exp(logits[o + c] - m); }
  let l = m + log(reduceSum(lidx, s));
  if (lidx == 0u) {
    lse[row] = l;
    rowLoss[row] = l - logits[o + labels[row]];
  }
}
`;
}

/** loss[0] = mean(rowLoss): one workgroup, deterministic order. */
export function meanWgsl(): string {
  return /* wgsl */ `
struct Params { n: u32, _p0: u32, _p1: u32, _p2: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> v: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
${WGSL_ROW_REDUCE}
@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) lidx: u32) {
  var s = 0.0;
  for (var i = lidx; i < p.n; i += WG) { s += v[i]; }
  let total = reduceSum(lidx, s);
  if (lidx == 0u) { dst[0] = total / f32(p.n); }
}
`;
}

/** dLogits[n,k] = gLoss/N·(exp(logits - lse[n]) - [k == label[n]]); one workgroup per row. */
export function ceBackwardWgsl(): string {
  return /* wgsl */ `
struct Params { n: u32, k: u32, gLoss: f32, _p0: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> lse: array<f32>;
@group(0) @binding(3) var<storage, read> labels: array<u32>;
@group(0) @binding(4) var<storage, read_write> dLogits: array<f32>;
${WGSL_FLAT_INDEX}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
  let row = flatRow(wid, nwg);
  if (row >= p.n) { return; }
  let o = row * p.k;
  let l = lse[row];
  let lab = labels[row];
  let g = p.gLoss / f32(p.n);
  for (var c = lidx; c < p.k; c += 64u) {
    var v = exp(logits[o + c] - l);
    if (c == lab) { v -= 1.0; }
    dLogits[o + c] = g * v;
  }
}
`;
}
