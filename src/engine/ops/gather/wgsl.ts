import { ELEM_WG, WGSL_FLAT_INDEX } from '../common/wgsl';

const HEAD = /* wgsl */ `
struct Params { b: u32, t: u32, d: u32, _pad: u32 }
@group(0) @binding(0) var<uniform> p: Params;
`;

export function gatherRowsForwardWgsl(): string {
  return /* wgsl */ `${HEAD}
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> idx: array<u32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;
${WGSL_FLAT_INDEX}
@compute @workgroup_size(${ELEM_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
  let e = flatIndex(wid, nwg, lidx);
  if (e >= p.b * p.d) { return; }
  let s = e / p.d;
  let c = e % p.d;
  dst[e] = x[(s * p.t + idx[s]) * p.d + c];
}
`;
}

/** Writes every element of dX (zeros included), so dX needs no clearing beforehand. */
export function gatherRowsBackwardWgsl(): string {
  return /* wgsl */ `${HEAD}
@group(0) @binding(1) var<storage, read> dOut: array<f32>;
@group(0) @binding(2) var<storage, read> idx: array<u32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
${WGSL_FLAT_INDEX}
@compute @workgroup_size(${ELEM_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
  let e = flatIndex(wid, nwg, lidx);
  if (e >= p.b * p.t * p.d) { return; }
  let c = e % p.d;
  let tok = e / p.d;
  let s = tok / p.t;
  let i = tok % p.t;
  var v = 0.0;
  if (i == idx[s]) { v = dOut[s * p.d + c]; }
  dx[e] = v;
}
`;
}
