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

/**
 * Register-blocked vec4 matmul (issue 14), the layout the fastest published WGSL matmuls use: each of a
 * 16×16 workgroup's threads computes a contiguous 4×4 block of C held in four vec4 registers, and every
 * global and workgroup-memory access is a vec4. A 64×64 tile of C per workgroup; the K depth of the staged
 * slices (TK) comes from the device (`matmulVec4Depth`).
 *
 * A is read as rows of vec4 along K; B as rows of vec4 along N (B stored [K, N]) or along K (transB, B
 * stored [N, K]: W of dY·Wᵀ), where each output is then a dot product of two vec4. So it needs K and N
 * multiples of 4 and no transA (`matmulVec4Fits`); the scalar tiled kernel serves every other shape.
 * The fused epilogues are the scalar kernel's, four columns at a time.
 */
export interface Vec4DepthInput {
  /** GPUSupportedLimits.maxComputeWorkgroupStorageSize. */
  maxWorkgroupStorage: number;
  /** GPUAdapterInfo.isFallbackAdapter (a software adapter such as SwiftShader). */
  fallbackAdapter: boolean;
}

/**
 * TK: 32 (two 8 KiB tiles, half the barriers of TK = 16) where the workgroup storage holds it, which every
 * WebGPU device does (16 KiB guaranteed); 16 on a software fallback adapter, where it was measured 1.4–1.7×
 * faster than the scalar kernel while TK = 32 was 0.7–1.3× (SwiftShader, bench/README.md: its workgroups
 * run on CPU cores, where 16 KiB of tiles per workgroup crowd the L1 cache). 0: no vec4 kernel.
 */
export function matmulVec4Depth(d: Vec4DepthInput): number {
  const fits = (tk: number) => 2 * 64 * tk * 4 <= d.maxWorkgroupStorage;
  if (!d.fallbackAdapter && fits(32)) return 32;
  return fits(16) ? 16 : 0;
}

export function matmulVec4Key(v: MatmulVariant, tk: number): string {
  return `${matmulKey(v).replace('matmul:', 'matmul-vec4:')}:tk=${tk}`;
}

export function matmulVec4Wgsl(v: MatmulVariant, tk: number): string {
  if (v.transA) throw new Error('matmul-vec4: transA is not supported (the scalar kernel serves it)');
  const loads = (64 * tk) / 4 / 256;
  const bLoad = v.transB
    ? `let nn = e / TK4; let kk4 = e % TK4; let gn = col0 + nn; let gk4 = k04 + kk4;
       if (gn < p.N && gk4 < K4) { val = B[bBase + gn * K4 + gk4]; }`
    : `let kk = e / TN4; let nn4 = e % TN4; let gk = k0 + kk; let gn4 = col0 / 4u + nn4;
       if (gk < p.K && gn4 < N4) { val = B[bBase + gk * N4 + gn4]; }`;
  const inner = v.transB
    ? `var b: array<vec4<f32>, 4>;
       for (var j = 0u; j < 4u; j++) { b[j] = Bs[(lid.x * 4u + j) * TK4 + kk4]; }
       for (var i = 0u; i < 4u; i++) {
         acc[i] += vec4<f32>(dot(a[i], b[0]), dot(a[i], b[1]), dot(a[i], b[2]), dot(a[i], b[3]));
       }`
    : `for (var t = 0u; t < 4u; t++) {
         let bt = Bs[(kk4 * 4u + t) * TN4 + lid.x];
         for (var i = 0u; i < 4u; i++) { acc[i] = fma(vec4<f32>(a[i][t]), bt, acc[i]); }
       }`;
  const extra = v.bias ? 5 : 4;
  return /* wgsl */ `
struct Params { M: u32, N: u32, K: u32, strideA: u32, strideB: u32, strideC: u32, alpha: f32, _pad: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> B: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> C: array<vec4<f32>>;
${v.bias ? '@group(0) @binding(4) var<storage, read> bias: array<vec4<f32>>;' : ''}
${v.epilogue === 'residual' ? `@group(0) @binding(${extra}) var<storage, read> R: array<vec4<f32>>;` : ''}
${v.epilogue === 'gelu' ? `@group(0) @binding(${extra}) var<storage, read_write> G: array<vec4<f32>>;` : ''}
${v.epilogue === 'geluGrad' ? `@group(0) @binding(${extra}) var<storage, read> F: array<vec4<f32>>;` : ''}
${v.epilogue === 'gelu' || v.epilogue === 'geluGrad' ? WGSL_QUICK_GELU : ''}
${v.epilogue === 'gelu' ? 'fn quickGelu4(x: vec4<f32>) -> vec4<f32> { return vec4<f32>(quickGelu(x.x), quickGelu(x.y), quickGelu(x.z), quickGelu(x.w)); }' : ''}
${v.epilogue === 'geluGrad' ? 'fn quickGeluGrad4(x: vec4<f32>) -> vec4<f32> { return vec4<f32>(quickGeluGrad(x.x), quickGeluGrad(x.y), quickGeluGrad(x.z), quickGeluGrad(x.w)); }' : ''}

const TM = 64u;
const TN4 = 16u;
const TK = ${tk}u;
const TK4 = ${tk / 4}u;
var<workgroup> As: array<vec4<f32>, ${(64 * tk) / 4}>; // [TM][TK4]
var<workgroup> Bs: array<vec4<f32>, ${(64 * tk) / 4}>; // ${v.transB ? '[TN][TK4]' : '[TK][TN4]'}

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let row0 = wid.y * TM;
  let col0 = wid.x * 64u;
  let K4 = p.K / 4u;
  let N4 = p.N / 4u;
  let aBase = wid.z * (p.strideA / 4u);
  let bBase = wid.z * (p.strideB / 4u);
  let cBase = wid.z * (p.strideC / 4u);
  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < p.K; k0 += TK) {
    let k04 = k0 / 4u;
    for (var r = 0u; r < ${loads}u; r++) {
      let e = li + r * 256u;
      let mm = e / TK4; let kk4 = e % TK4; let gm = row0 + mm; let gk4 = k04 + kk4;
      var val = vec4<f32>(0.0);
      if (gm < p.M && gk4 < K4) { val = A[aBase + gm * K4 + gk4]; }
      As[e] = val;
    }
    for (var r = 0u; r < ${loads}u; r++) {
      let e = li + r * 256u;
      var val = vec4<f32>(0.0);
      ${bLoad}
      Bs[e] = val;
    }
    workgroupBarrier();
    for (var kk4 = 0u; kk4 < TK4; kk4++) {
      var a: array<vec4<f32>, 4>;
      for (var i = 0u; i < 4u; i++) { a[i] = As[(lid.y * 4u + i) * TK4 + kk4]; }
      ${inner}
    }
    workgroupBarrier();
  }
  let c4 = col0 / 4u + lid.x;
  if (c4 >= N4) { return; }
  for (var i = 0u; i < 4u; i++) {
    let r = row0 + lid.y * 4u + i;
    if (r >= p.M) { break; }
    let idx = cBase + r * N4 + c4;
    var val = p.alpha * acc[i];
    ${v.bias ? 'val += bias[c4];' : ''}
    ${v.epilogue === 'geluGrad' ? 'val *= quickGeluGrad4(F[idx]);' : ''}
    ${v.accumulate ? 'val += C[idx];' : ''}
    ${v.epilogue === 'residual' ? 'val += R[idx];' : ''}
    C[idx] = val;
    ${v.epilogue === 'gelu' ? 'G[idx] = quickGelu4(val);' : ''}
  }
}
`;
}
