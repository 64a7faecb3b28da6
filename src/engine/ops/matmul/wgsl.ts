import { WGSL_QUICK_GELU } from '../quickgelu/wgsl';
/**
 * Tiled matmul: each 16×16 workgroup computes a 64×64 tile of C, 4×4 outputs
 * per thread, staging 16-deep slices of A and B in workgroup memory (8 KiB,
 * half the 16 KiB WebGPU guarantees).
 *
 * Threads own rows ty+16·i and columns tx+16·j (strided, not a contiguous
 * 4×4 block) so that neighbouring threads read neighbouring words of the
 * B tile and write neighbouring words of C.
 *
 * Tile loads map the flat thread index so that consecutive threads read
 * consecutive global addresses for whichever operand layout is in use.
 */
export interface MatmulVariant {
  transA: boolean;
  transB: boolean;
  bias: boolean;
  accumulate: boolean;
  /**
   * Fused epilogues, each saving an elementwise pass over C (issue 14): 'residual' adds R[idx] (x + sublayer(x));
   * 'gelu' also writes G = QuickGELU(C) (fc1: C keeps the pre-activation backward needs); 'geluGrad' multiplies by
   * QuickGELU'(F[idx]) (fc2's backward straight into d pre-activation).
   */
  epilogue?: 'residual' | 'gelu' | 'geluGrad';
}

export const MATMUL_TILE = 64;
export const MATMUL_TILE_K = 16;

export function matmulKey(v: MatmulVariant): string {
  return `matmul:tA=${+v.transA}:tB=${+v.transB}:bias=${+v.bias}:acc=${+v.accumulate}${v.epilogue ? `:${v.epilogue}` : ''}`;
}

export function matmulWgsl(v: MatmulVariant): string {
  const aLoad = v.transA
    ? `let kk = e / TM; let mm = e % TM; let gm = row0 + mm; let gk = k0 + kk;
       var val = 0.0; if (gm < p.M && gk < p.K) { val = A[aBase + gk * p.M + gm]; }`
    : `let mm = e / TK; let kk = e % TK; let gm = row0 + mm; let gk = k0 + kk;
       var val = 0.0; if (gm < p.M && gk < p.K) { val = A[aBase + gm * p.K + gk]; }`;
  const bLoad = v.transB
    ? `let nn = e / TK; let kk = e % TK; let gn = col0 + nn; let gk = k0 + kk;
       var val = 0.0; if (gn < p.N && gk < p.K) { val = B[bBase + gn * p.K + gk]; }`
    : `let kk = e / TN; let nn = e % TN; let gn = col0 + nn; let gk = k0 + kk;
       var val = 0.0; if (gn < p.N && gk < p.K) { val = B[bBase + gk * p.N + gn]; }`;
  return /* wgsl */ `
struct Params { M: u32, N: u32, K: u32, strideA: u32, strideB: u32, strideC: u32, alpha: f32, _pad: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
${v.bias ? '@group(0) @binding(4) var<storage, read> bias: array<f32>;' : ''}
${v.epilogue === 'residual' ? `@group(0) @binding(${v.bias ? 5 : 4}) var<storage, read> R: array<f32>;` : ''}
${v.epilogue === 'gelu' ? `@group(0) @binding(${v.bias ? 5 : 4}) var<storage, read_write> G: array<f32>;` : ''}
${v.epilogue === 'geluGrad' ? `@group(0) @binding(${v.bias ? 5 : 4}) var<storage, read> F: array<f32>;` : ''}
${v.epilogue === 'gelu' || v.epilogue === 'geluGrad' ? WGSL_QUICK_GELU : ''}

const TM = 64u;
const TN = 64u;
const TK = 16u;
var<workgroup> As: array<f32, 1024>; // [TK][TM]
var<workgroup> Bs: array<f32, 1024>; // [TK][TN]

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let row0 = wid.y * TM;
  let col0 = wid.x * TN;
  let aBase = wid.z * p.strideA;
  let bBase = wid.z * p.strideB;
  let cBase = wid.z * p.strideC;
  var acc: array<f32, 16>;
  for (var k0 = 0u; k0 < p.K; k0 += TK) {
    for (var r = 0u; r < 4u; r++) {
      let e = li + r * 256u;
      ${aLoad}
      As[kk * TM + mm] = val;
    }
    for (var r = 0u; r < 4u; r++) {
      let e = li + r * 256u;
      ${bLoad}
      Bs[kk * TN + nn] = val;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      var a: array<f32, 4>;
      var b: array<f32, 4>;
      for (var i = 0u; i < 4u; i++) { a[i] = As[kk * TM + lid.y + 16u * i]; }
      for (var j = 0u; j < 4u; j++) { b[j] = Bs[kk * TN + lid.x + 16u * j]; }
      for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) {
          acc[i * 4u + j] = fma(a[i], b[j], acc[i * 4u + j]);
        }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let r = row0 + lid.y + 16u * i;
    if (r >= p.M) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let c = col0 + lid.x + 16u * j;
      if (c >= p.N) { continue; }
      let idx = cBase + r * p.N + c;
      var val = p.alpha * acc[i * 4u + j];
      ${v.bias ? 'val += bias[c];' : ''}
      ${v.epilogue === 'geluGrad' ? 'val *= quickGeluGrad(F[idx]);' : ''}
      ${v.accumulate ? 'val += C[idx];' : ''}
      ${v.epilogue === 'residual' ? 'val += R[idx];' : ''}
      C[idx] = val;
      ${v.epilogue === 'gelu' ? 'G[idx] = quickGelu(val);' : ''}
    }
  }
}
`;
}
