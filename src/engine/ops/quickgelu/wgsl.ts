import { ELEM_WG, WGSL_FLAT_INDEX } from '../common/wgsl';

// exp(-1.702·x) overflows to +inf for x < -52; 1/(1+inf) = 0 is the right limit, so no clamping is needed.
export const SIGMOID = 'fn sig(v: f32) -> f32 { return 1.0 / (1.0 + exp(-1.702 * v)); }';
/** QuickGELU and its derivative from the pre-activation, shared with the matmul's fused epilogues. */
export const WGSL_QUICK_GELU = /* wgsl */ `
${SIGMOID}
fn quickGelu(v: f32) -> f32 { return v * sig(v); }
fn quickGeluGrad(v: f32) -> f32 { let s = sig(v); return s + 1.702 * v * s * (1.0 - s); }
`;

export function quickGeluForwardWgsl(): string {
  return /* wgsl */ `
struct Params { n: u32, _p0: u32, _p1: u32, _p2: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
${WGSL_FLAT_INDEX}
${SIGMOID}
@compute @workgroup_size(${ELEM_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
  let i = flatIndex(wid, nwg, lidx);
  if (i >= p.n) { return; }
  let v = x[i];
  y[i] = v * sig(v);
}
`;
}

export function quickGeluBackwardWgsl(): string {
  return /* wgsl */ `
struct Params { n: u32, _p0: u32, _p1: u32, _p2: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
${WGSL_FLAT_INDEX}
${SIGMOID}
@compute @workgroup_size(${ELEM_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
  let i = flatIndex(wid, nwg, lidx);
  if (i >= p.n) { return; }
  let v = x[i];
  let s = sig(v);
  dx[i] = dy[i] * (s + 1.702 * v * s * (1.0 - s));
}
`;
}
