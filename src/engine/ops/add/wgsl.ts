import { ELEM_WG, WGSL_FLAT_INDEX } from '../common/wgsl';

export function addWgsl(inPlace: boolean): string {
  const io = inPlace
    ? `@group(0) @binding(1) var<storage, read_write> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;`
    : `@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;`;
  return /* wgsl */ `
struct Params { n: u32, _p0: u32, _p1: u32, _p2: u32 }
@group(0) @binding(0) var<uniform> p: Params;
${io}
${WGSL_FLAT_INDEX}
@compute @workgroup_size(${ELEM_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
  let i = flatIndex(wid, nwg, lidx);
  if (i >= p.n) { return; }
  ${inPlace ? 'a[i] = a[i] + b[i];' : 'dst[i] = a[i] + b[i];'}
}
`;
}
