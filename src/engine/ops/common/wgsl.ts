/**
 * WGSL snippets shared by row-wise kernels (one 64-thread workgroup per row).
 * A tree reduction in workgroup memory: rows are at most a few thousand wide,
 * so per-thread strided partial sums followed by a 6-step tree is plenty and
 * keeps the kernels portable (no subgroup ops, which SwiftShader and some
 * browsers lack).
 */
export const ROW_WG = 64;

export const WGSL_ROW_REDUCE = /* wgsl */ `
const WG = ${ROW_WG}u;
var<workgroup> red: array<f32, ${ROW_WG}>;

fn reduceSum(lidx: u32, v: f32) -> f32 {
  workgroupBarrier();
  red[lidx] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s >> 1u) {
    if (lidx < s) { red[lidx] = red[lidx] + red[lidx + s]; }
    workgroupBarrier();
  }
  return red[0];
}

fn reduceMax(lidx: u32, v: f32) -> f32 {
  workgroupBarrier();
  red[lidx] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s >> 1u) {
    if (lidx < s) { red[lidx] = max(red[lidx], red[lidx + s]); }
    workgroupBarrier();
  }
  return red[0];
}
`;

/** Elementwise kernels: 256 threads per workgroup, flat index over a 2D grid. */
export const ELEM_WG = 256;

export const WGSL_FLAT_INDEX = /* wgsl */ `
fn flatIndex(wid: vec3<u32>, nwg: vec3<u32>, lidx: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * ${ELEM_WG}u + lidx;
}
fn flatRow(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return wid.y * nwg.x + wid.x;
}
`;
