import { WGSL_FLAT_INDEX, WGSL_ROW_REDUCE } from '../common/wgsl';

/** One workgroup per row; two-pass variance (mean first) to avoid cancellation in E[x²]-E[x]². */
export function layerNormForwardWgsl(): string {
  return /* wgsl */ `
struct Params { rows: u32, d: u32, eps: f32, _pad: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<storage, read_write> meanOut: array<f32>;
@group(0) @binding(6) var<storage, read_write> rstdOut: array<f32>;
${WGSL_ROW_REDUCE}
${WGSL_FLAT_INDEX}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
  let row = flatRow(wid, nwg);
  if (row >= p.rows) { return; }
  let o = row * p.d;
  var s = 0.0;
  for (var i = lidx; i < p.d; i += WG) { s += x[o + i]; }
  let mean = reduceSum(lidx, s) / f32(p.d);
  var v = 0.0;
  for (var i = lidx; i < p.d; i += WG) { let c = x[o + i] - mean; v += c * c; }
  let rstd = inverseSqrt(reduceSum(lidx, v) / f32(p.d) + p.eps);
  for (var i = lidx; i < p.d; i += WG) { y[o + i] = (x[o + i] - mean) * rstd * gamma[i] + beta[i]; }
  if (lidx == 0u) { meanOut[row] = mean; rstdOut[row] = rstd; }
}
`;
}

export function layerNormBackwardWgsl(accumulate: boolean): string {
  return /* wgsl */ `
struct Params { rows: u32, d: u32, _p0: u32, _p1: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> gamma: array<f32>;
@group(0) @binding(4) var<storage, read> meanIn: array<f32>;
@group(0) @binding(5) var<storage, read> rstdIn: array<f32>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;
${WGSL_ROW_REDUCE}
${WGSL_FLAT_INDEX}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
  let row = flatRow(wid, nwg);
  if (row >= p.rows) { return; }
  let o = row * p.d;
  let mean = meanIn[row];
  let rstd = rstdIn[row];
  var sg = 0.0;
  var sgx = 0.0;
  for (var i = lidx; i < p.d; i += WG) {
    let g = dy[o + i] * gamma[i];
    sg += g;
    sgx += g * (x[o + i] - mean) * rstd;
  }
  let a = reduceSum(lidx, sg) / f32(p.d);
  let b = reduceSum(lidx, sgx) / f32(p.d);
  for (var i = lidx; i < p.d; i += WG) {
    let g = dy[o + i] * gamma[i];
    let xh = (x[o + i] - mean) * rstd;
    let v = rstd * (g - a - xh * b);
    ${accumulate ? 'dx[o + i] = dx[o + i] + v;' : 'dx[o + i] = v;'}
  }
}
`;
}
