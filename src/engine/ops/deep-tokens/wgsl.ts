import { ELEM_WG, WGSL_FLAT_INDEX } from '../common/wgsl';

const HEAD = /* wgsl */ `
struct Params { b: u32, s: u32, d: u32, m: u32, offset: u32, r0: u32, perRow: u32, _pad: u32 }
@group(0) @binding(0) var<uniform> p: Params;
`;

/** One thread per (row, token, channel); positions outside the run do nothing. */
export function deepTokensReplaceWgsl(): string {
  return /* wgsl */ `${HEAD}
@group(0) @binding(1) var<storage, read> tokens: array<f32>;
@group(0) @binding(2) var<storage, read_write> x: array<f32>;
${WGSL_FLAT_INDEX}
@compute @workgroup_size(${ELEM_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
  let e = flatIndex(wid, nwg, lidx);
  if (e >= p.b * p.m * p.d) { return; }
  let j = e % p.d;
  let m = (e / p.d) % p.m;
  let b = e / (p.d * p.m);
  let pos = 1u + m;
  if (pos < p.offset || pos - p.offset >= p.s) { return; }
  let s = pos - p.offset;
  var row = 0u;
  if (p.perRow != 0u) { row = p.r0 + b; }
  x[(b * p.s + s) * p.d + j] = tokens[(row * p.m + m) * p.d + j];
}
`;
}

/**
 * Shared tokens: one thread per (token, channel) sums over the rows in order, so no two threads write one gradient
 * element. Per-row tokens: one thread per (row, token, channel). Either way the run's dX is zeroed there.
 */
export function deepTokensCollectWgsl(): string {
  return /* wgsl */ `${HEAD}
@group(0) @binding(1) var<storage, read_write> dx: array<f32>;
@group(0) @binding(2) var<storage, read_write> grad: array<f32>;
${WGSL_FLAT_INDEX}
@compute @workgroup_size(${ELEM_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
  let e = flatIndex(wid, nwg, lidx);
  var nb = 1u;
  if (p.perRow != 0u) { nb = p.b; }
  if (e >= nb * p.m * p.d) { return; }
  let j = e % p.d;
  let m = (e / p.d) % p.m;
  let pos = 1u + m;
  if (pos < p.offset || pos - p.offset >= p.s) { return; }
  let s = pos - p.offset;
  if (p.perRow != 0u) {
    let b = e / (p.d * p.m);
    let xi = (b * p.s + s) * p.d + j;
    let gi = ((p.r0 + b) * p.m + m) * p.d + j;
    grad[gi] = grad[gi] + dx[xi];
    dx[xi] = 0.0;
    return;
  }
  var acc = 0.0;
  for (var b = 0u; b < p.b; b = b + 1u) {
    let xi = (b * p.s + s) * p.d + j;
    acc = acc + dx[xi];
    dx[xi] = 0.0;
  }
  let gi = m * p.d + j;
  grad[gi] = grad[gi] + acc;
}
`;
}
