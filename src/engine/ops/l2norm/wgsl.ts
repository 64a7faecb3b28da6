import { WGSL_FLAT_INDEX, WGSL_ROW_REDUCE } from '../common/wgsl';

const HEAD = /* wgsl */ `
struct Params { rows: u32, d: u32, _p0: u32, _p1: u32 }
@group(0) @binding(0) var<uniform> p: Params;
`;

export function l2NormalizeForwardWgsl(): string {
  return /* wgsl */ `${HEAD}
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
${WGSL_ROW_REDUCE}
${WGSL_FLAT_INDEX}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
  let row = flatRow(wid, nwg);
  if (row >= p.rows) { return; }
  let o = row * p.d;
  var s = 0.0;
  for (var i = lidx; i < p.d; i += WG) { s += x[o + i] * x[o + i]; }
  let n = max(sqrt(reduceSum(lidx, s)), 1e-12);
  for (var i = lidx; i < p.d; i += WG) { y[o + i] = x[o + i] / n; }
}
`;
}

export function l2NormalizeBackwardWgsl(): string {
  return /* wgsl */ `${HEAD}
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
${WGSL_ROW_REDUCE}
${WGSL_FLAT_INDEX}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
  let row = flatRow(wid, nwg);
  if (row >= p.rows) { return; }
  let o = row * p.d;
  var s = 0.0;
  var xg = 0.0;
  for (var i = lidx; i < p.d; i += WG) { s += x[o + i] * x[o + i]; xg += x[o + i] * dy[o + i]; }
  let n = max(sqrt(reduceSum(lidx, s)), 1e-12);
  let yg = reduceSum(lidx, xg) / n;
  for (var i = lidx; i < p.d; i += WG) { dx[o + i] = (dy[o + i] - (x[o + i] / n) * yg) / n; }
}
`;
}
