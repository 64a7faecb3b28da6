import { ELEM_WG, WGSL_FLAT_INDEX } from '../common/wgsl';

export function embeddingForwardWgsl(): string {
  return /* wgsl */ `
struct Params { b: u32, t: u32, d: u32, posOffset: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> table: array<f32>;
@group(0) @binding(2) var<storage, read> pos: array<f32>;
@group(0) @binding(3) var<storage, read> ids: array<u32>;
@group(0) @binding(4) var<storage, read_write> dst: array<f32>;
${WGSL_FLAT_INDEX}
@compute @workgroup_size(${ELEM_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
  let e = flatIndex(wid, nwg, lidx);
  if (e >= p.b * p.t * p.d) { return; }
  let tok = e / p.d;
  let c = e % p.d;
  let i = tok % p.t;
  dst[e] = table[ids[tok] * p.d + c] + pos[(p.posOffset + i) * p.d + c];
}
`;
}
