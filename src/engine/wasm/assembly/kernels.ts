// AssemblyScript: the WASM SIMD compute core of the CPU engine (src/engine/wasm/build.mjs compiles it).
//
// Every function works on raw byte addresses in one linear memory that JavaScript owns (src/engine/wasm/memory.ts
// lays it out); nothing here allocates, so the same module can run on several threads over one shared memory.
// fp32 throughout, as on the GPU. Each kernel has a JavaScript twin under src/engine/ops/<op>/cpu.ts that
// accumulates in f64; tests hold the two together on ragged shapes.
//
// The matmul follows the packed-panel design of BLIS/XNNPACK: op(A) is packed into panels of MR = 6 rows
// (k-major, zero-padded), op(B) into panels of NR = 8 columns (k-major, zero-padded), and a register-blocked
// 6×8 micro-kernel keeps its 12 accumulators in registers (12 + 2 B vectors + 1 broadcast A = 15 of x86's 16
// XMM registers). Frozen weights are packed once at load; other operands per product.
//
// With relaxed SIMD (ASC_FEATURE_RELAXED_SIMD, a separate build chosen at run time by feature detection) the
// multiply-add is f32x4.relaxed_madd: a fused FMA where the CPU has one.

// (Excluded from tsc in tsconfig.json: AssemblyScript types such as f32, usize and v128 are not TypeScript's.)

const MR: i32 = 6;
const NR: i32 = 8;

@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

@inline function at(base: usize, i: i32): usize {
  return base + (<usize>i << 2);
}

/**
 * Packs op(A) [m, k] into ceil(m/6) panels of [k][6]: element (i, p) is read at a + 4·(i·rs + p·cs), so
 * A row-major is (rs = k, cs = 1) and A stored transposed is (rs = 1, cs = m).
 */
export function packA(a: usize, rs: i32, cs: i32, m: i32, k: i32, dst: usize): void {
  const panels = (m + MR - 1) / MR;
  for (let t = 0; t < panels; t++) {
    const base = dst + (<usize>(t * k * MR) << 2);
    for (let r = 0; r < MR; r++) {
      const i = t * MR + r;
      if (i < m) {
        for (let p = 0; p < k; p++) store<f32>(at(base, p * MR + r), load<f32>(at(a, i * rs + p * cs)));
      } else {
        for (let p = 0; p < k; p++) store<f32>(at(base, p * MR + r), 0);
      }
    }
  }
}

/**
 * Packs op(B) [k, n] into ceil(n/8) panels of [k][8]: element (p, j) is read at b + 4·(p·rs + j·cs), so B
 * row-major is (rs = n, cs = 1) and B stored transposed ([n, k]) is (rs = 1, cs = k). Panels q0..q1 only, so
 * several threads can pack one operand.
 */
export function packB(b: usize, rs: i32, cs: i32, k: i32, n: i32, dst: usize, q0: i32, q1: i32): void {
  for (let q = q0; q < q1; q++) {
    const base = dst + (<usize>(q * k * NR) << 2);
    for (let c = 0; c < NR; c++) {
      const j = q * NR + c;
      if (j < n) {
        if (rs == 1) {
          // B transposed: column j of op(B) is contiguous.
          const src = at(b, j * cs);
          for (let p = 0; p < k; p++) store<f32>(at(base, p * NR + c), load<f32>(at(src, p)));
        } else {
          for (let p = 0; p < k; p++) store<f32>(at(base, p * NR + c), load<f32>(at(b, p * rs + j * cs)));
        }
      } else {
        for (let p = 0; p < k; p++) store<f32>(at(base, p * NR + c), 0);
      }
    }
  }
}

/** One row of a C tile: nr (1..8) columns of alpha·acc (+ bias) (+ C). */
@inline function storeRow(cr: usize, v0: v128, v1: v128, nr: i32, alpha: v128, bias: usize, accumulate: i32): void {
  let r0 = f32x4.mul(v0, alpha);
  let r1 = f32x4.mul(v1, alpha);
  if (nr == NR) {
    if (bias) {
      r0 = f32x4.add(r0, v128.load(bias));
      r1 = f32x4.add(r1, v128.load(bias, 16));
    }
    if (accumulate) {
      r0 = f32x4.add(r0, v128.load(cr));
      r1 = f32x4.add(r1, v128.load(cr, 16));
    }
    v128.store(cr, r0);
    v128.store(cr, r1, 16);
    return;
  }
  // A ragged right edge: lane by lane (lane indexes must be constants).
  storeLane(cr, 0, f32x4.extract_lane(r0, 0), nr, bias, accumulate);
  storeLane(cr, 1, f32x4.extract_lane(r0, 1), nr, bias, accumulate);
  storeLane(cr, 2, f32x4.extract_lane(r0, 2), nr, bias, accumulate);
  storeLane(cr, 3, f32x4.extract_lane(r0, 3), nr, bias, accumulate);
  storeLane(cr, 4, f32x4.extract_lane(r1, 0), nr, bias, accumulate);
  storeLane(cr, 5, f32x4.extract_lane(r1, 1), nr, bias, accumulate);
  storeLane(cr, 6, f32x4.extract_lane(r1, 2), nr, bias, accumulate);
}

@inline function storeLane(cr: usize, j: i32, v: f32, nr: i32, bias: usize, accumulate: i32): void {
  if (j >= nr) return;
  let x = v;
  if (bias) x += load<f32>(at(bias, j));
  if (accumulate) x += load<f32>(at(cr, j));
  store<f32>(at(cr, j), x);
}

/**
 * Depth of a k-block: a block of one B panel (KC × 8 floats, 16 KiB) stays in L1 while every row panel of A runs
 * through it; unblocked, a panel of a 2048-deep weight (64 KiB) was read from L2 once per row panel, at half speed.
 */
const KC: i32 = 512;

/**
 * C[m, n] (row stride ldc) = alpha · op(A)·op(B) (+ bias[n]) (+ C when accumulate), for the column panels
 * q0..q1 (8 columns each), from packA's and packB's panels. Threads split a product by column panels.
 */
export function gemm(pa: usize, pb: usize, c: usize, ldc: i32, m: i32, n: i32, k: i32, alpha: f32, bias: usize, accumulate: i32, q0: i32, q1: i32): void {
  const rowPanels = (m + MR - 1) / MR;
  const av = f32x4.splat(alpha);
  for (let q = q0; q < q1; q++) {
    const j = q * NR;
    const nr = min(NR, n - j);
    const bq = pb + (<usize>(q * k * NR) << 2);
    const biasq: usize = bias ? at(bias, j) : 0;
    for (let p0 = 0; p0 < k; p0 += KC) {
      const kc = min(KC, k - p0);
      // The first block writes (bias, the caller's accumulate); later blocks add to it.
      const first = p0 == 0;
      const blockBias: usize = first ? biasq : 0;
      const blockAcc: i32 = first ? accumulate : 1;
      for (let t = 0; t < rowPanels; t++) {
        let ap = pa + (<usize>(t * k * MR + p0 * MR) << 2);
        let bp = bq + (<usize>(p0 * NR) << 2);
        let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
        let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
        let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
        let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
        let c40 = f32x4.splat(0), c41 = f32x4.splat(0);
        let c50 = f32x4.splat(0), c51 = f32x4.splat(0);
        let b0: v128, b1: v128, a: v128;
        // Two k-steps per iteration (immediate offsets, one pointer update): less loop overhead per 24 multiply-adds.
        let p = 0;
        for (; p + 2 <= kc; p += 2) {
          b0 = v128.load(bp, 0);
          b1 = v128.load(bp, 16);
          a = v128.load32_splat(ap, 0);
          c00 = madd(a, b0, c00);
          c01 = madd(a, b1, c01);
          a = v128.load32_splat(ap, 4);
          c10 = madd(a, b0, c10);
          c11 = madd(a, b1, c11);
          a = v128.load32_splat(ap, 8);
          c20 = madd(a, b0, c20);
          c21 = madd(a, b1, c21);
          a = v128.load32_splat(ap, 12);
          c30 = madd(a, b0, c30);
          c31 = madd(a, b1, c31);
          a = v128.load32_splat(ap, 16);
          c40 = madd(a, b0, c40);
          c41 = madd(a, b1, c41);
          a = v128.load32_splat(ap, 20);
          c50 = madd(a, b0, c50);
          c51 = madd(a, b1, c51);
          b0 = v128.load(bp, 32);
          b1 = v128.load(bp, 48);
          a = v128.load32_splat(ap, 24);
          c00 = madd(a, b0, c00);
          c01 = madd(a, b1, c01);
          a = v128.load32_splat(ap, 28);
          c10 = madd(a, b0, c10);
          c11 = madd(a, b1, c11);
          a = v128.load32_splat(ap, 32);
          c20 = madd(a, b0, c20);
          c21 = madd(a, b1, c21);
          a = v128.load32_splat(ap, 36);
          c30 = madd(a, b0, c30);
          c31 = madd(a, b1, c31);
          a = v128.load32_splat(ap, 40);
          c40 = madd(a, b0, c40);
          c41 = madd(a, b1, c41);
          a = v128.load32_splat(ap, 44);
          c50 = madd(a, b0, c50);
          c51 = madd(a, b1, c51);
          ap += (MR << 3);
          bp += (NR << 3);
        }
        if (p < kc) {
          b0 = v128.load(bp, 0);
          b1 = v128.load(bp, 16);
          a = v128.load32_splat(ap, 0);
          c00 = madd(a, b0, c00);
          c01 = madd(a, b1, c01);
          a = v128.load32_splat(ap, 4);
          c10 = madd(a, b0, c10);
          c11 = madd(a, b1, c11);
          a = v128.load32_splat(ap, 8);
          c20 = madd(a, b0, c20);
          c21 = madd(a, b1, c21);
          a = v128.load32_splat(ap, 12);
          c30 = madd(a, b0, c30);
          c31 = madd(a, b1, c31);
          a = v128.load32_splat(ap, 16);
          c40 = madd(a, b0, c40);
          c41 = madd(a, b1, c41);
          a = v128.load32_splat(ap, 20);
          c50 = madd(a, b0, c50);
          c51 = madd(a, b1, c51);
        }
        const i = t * MR;
        const mr = min(MR, m - i);
        const cr = c + (<usize>(i * ldc + j) << 2);
        const rowBytes = <usize>ldc << 2;
        storeRow(cr, c00, c01, nr, av, blockBias, blockAcc);
        if (mr > 1) storeRow(cr + rowBytes, c10, c11, nr, av, blockBias, blockAcc);
        if (mr > 2) storeRow(cr + 2 * rowBytes, c20, c21, nr, av, blockBias, blockAcc);
        if (mr > 3) storeRow(cr + 3 * rowBytes, c30, c31, nr, av, blockBias, blockAcc);
        if (mr > 4) storeRow(cr + 4 * rowBytes, c40, c41, nr, av, blockBias, blockAcc);
        if (mr > 5) storeRow(cr + 5 * rowBytes, c50, c51, nr, av, blockBias, blockAcc);
      }
    }
  }
}

/** Horizontal sum of a vector's four lanes. */
@inline function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

/** Σ x[0..d) (d a multiple of 4 in the vector part; the tail scalar). */
@inline function rowSum(x: usize, d: i32): f32 {
  let s = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= d; i += 4) s = f32x4.add(s, v128.load(at(x, i)));
  let r = hsum(s);
  for (; i < d; i++) r += load<f32>(at(x, i));
  return r;
}

/** Layer norm over rows of d: y = (x − mean)·rstd·gamma + beta; mean and rstd saved per row for backward. */
export function layerNormForward(x: usize, gamma: usize, beta: usize, rows: i32, d: i32, eps: f32, y: usize, mean: usize, rstd: usize): void {
  for (let r = 0; r < rows; r++) {
    const xr = at(x, r * d);
    const yr = at(y, r * d);
    const m = rowSum(xr, d) / <f32>d;
    const mv = f32x4.splat(m);
    let vs = f32x4.splat(0);
    let i = 0;
    for (; i + 4 <= d; i += 4) {
      const c = f32x4.sub(v128.load(at(xr, i)), mv);
      vs = madd(c, c, vs);
    }
    let v = hsum(vs);
    for (; i < d; i++) {
      const c = load<f32>(at(xr, i)) - m;
      v += c * c;
    }
    const rs = <f32>1 / Mathf.sqrt(v / <f32>d + eps);
    store<f32>(at(mean, r), m);
    store<f32>(at(rstd, r), rs);
    const rv = f32x4.splat(rs);
    i = 0;
    for (; i + 4 <= d; i += 4) {
      const xh = f32x4.mul(f32x4.sub(v128.load(at(xr, i)), mv), rv);
      v128.store(at(yr, i), madd(xh, v128.load(at(gamma, i)), v128.load(at(beta, i))));
    }
    for (; i < d; i++) store<f32>(at(yr, i), (load<f32>(at(xr, i)) - m) * rs * load<f32>(at(gamma, i)) + load<f32>(at(beta, i)));
  }
}

/** dx = rstd·(g − mean(g) − x̂·mean(g·x̂)), g = dy·gamma, x̂ = (x − mean)·rstd. With accumulate, dx += that. */
export function layerNormBackward(dy: usize, x: usize, gamma: usize, mean: usize, rstd: usize, rows: i32, d: i32, dx: usize, accumulate: i32): void {
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    const m = load<f32>(at(mean, r));
    const rs = load<f32>(at(rstd, r));
    const mv = f32x4.splat(m);
    const rv = f32x4.splat(rs);
    let sg = f32x4.splat(0);
    let sgx = f32x4.splat(0);
    let i = 0;
    for (; i + 4 <= d; i += 4) {
      const g = f32x4.mul(v128.load(at(dy, o + i)), v128.load(at(gamma, i)));
      const xh = f32x4.mul(f32x4.sub(v128.load(at(x, o + i)), mv), rv);
      sg = f32x4.add(sg, g);
      sgx = madd(g, xh, sgx);
    }
    let sgs = hsum(sg);
    let sgxs = hsum(sgx);
    for (; i < d; i++) {
      const g = load<f32>(at(dy, o + i)) * load<f32>(at(gamma, i));
      const xh = (load<f32>(at(x, o + i)) - m) * rs;
      sgs += g;
      sgxs += g * xh;
    }
    const a = sgs / <f32>d;
    const b = sgxs / <f32>d;
    const av = f32x4.splat(a);
    const bv = f32x4.splat(b);
    i = 0;
    for (; i + 4 <= d; i += 4) {
      const g = f32x4.mul(v128.load(at(dy, o + i)), v128.load(at(gamma, i)));
      const xh = f32x4.mul(f32x4.sub(v128.load(at(x, o + i)), mv), rv);
      let out = f32x4.mul(rv, f32x4.sub(f32x4.sub(g, av), f32x4.mul(xh, bv)));
      if (accumulate) out = f32x4.add(out, v128.load(at(dx, o + i)));
      v128.store(at(dx, o + i), out);
    }
    for (; i < d; i++) {
      const g = load<f32>(at(dy, o + i)) * load<f32>(at(gamma, i));
      const xh = (load<f32>(at(x, o + i)) - m) * rs;
      let out = rs * (g - a - xh * b);
      if (accumulate) out += load<f32>(at(dx, o + i));
      store<f32>(at(dx, o + i), out);
    }
  }
}

const QUICK_GELU_ALPHA: f32 = 1.702;

// exp on four lanes (Cephes' expf: x = n·ln2 + r, |r| ≤ ln2/2, a degree-5 polynomial, 2^n through the exponent
// bits; relative error ~2 ulp on the range used here). QuickGELU needs one exp per element in forward and
// backward, which the scalar libm exp made a visible share of a step.
const LOG2E: f32 = 1.44269504088896341;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;

@inline function expv(x0: v128): v128 {
  const x = f32x4.min(f32x4.max(x0, f32x4.splat(-87.3)), f32x4.splat(88.3));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(LOG2E)));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(LN2_LO)));
  let p = f32x4.splat(1.9875691500e-4);
  p = madd(p, r, f32x4.splat(1.3981999507e-3));
  p = madd(p, r, f32x4.splat(8.3334519073e-3));
  p = madd(p, r, f32x4.splat(4.1665795894e-2));
  p = madd(p, r, f32x4.splat(1.6666665459e-1));
  p = madd(p, r, f32x4.splat(5.0000001201e-1));
  const r2 = f32x4.mul(r, r);
  p = madd(p, r2, f32x4.add(r, f32x4.splat(1)));
  const e = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(p, e);
}

/** sigmoid(1.702·x) on four lanes. */
@inline function sigmoidQ(x: v128): v128 {
  const e = expv(f32x4.mul(x, f32x4.splat(-QUICK_GELU_ALPHA)));
  return f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), e));
}

@inline function sigmoidQs(x: f32): f32 {
  return <f32>1 / (<f32>1 + Mathf.exp(-QUICK_GELU_ALPHA * x));
}

/** CLIP's QuickGELU: y = x·sigmoid(1.702·x). */
export function quickGeluForward(x: usize, y: usize, len: i32): void {
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const v = v128.load(at(x, i));
    v128.store(at(y, i), f32x4.mul(v, sigmoidQ(v)));
  }
  for (; i < len; i++) {
    const v = load<f32>(at(x, i));
    store<f32>(at(y, i), v * sigmoidQs(v));
  }
}

/** dx = dy·(s + 1.702·x·s·(1 − s)), s = sigmoid(1.702·x), from the pre-activation x. */
export function quickGeluBackward(dy: usize, x: usize, dx: usize, len: i32): void {
  let i = 0;
  const one = f32x4.splat(1);
  const alpha = f32x4.splat(QUICK_GELU_ALPHA);
  for (; i + 4 <= len; i += 4) {
    const v = v128.load(at(x, i));
    const s = sigmoidQ(v);
    const ds = f32x4.mul(f32x4.mul(f32x4.mul(alpha, v), s), f32x4.sub(one, s));
    v128.store(at(dx, i), f32x4.mul(v128.load(at(dy, i)), f32x4.add(s, ds)));
  }
  for (; i < len; i++) {
    const v = load<f32>(at(x, i));
    const s = sigmoidQs(v);
    store<f32>(at(dx, i), load<f32>(at(dy, i)) * (s + QUICK_GELU_ALPHA * v * s * (1 - s)));
  }
}

/** out = a + b (out may alias a: a += b). */
export function add(a: usize, b: usize, out: usize, len: i32): void {
  let i = 0;
  for (; i + 4 <= len; i += 4) v128.store(at(out, i), f32x4.add(v128.load(at(a, i)), v128.load(at(b, i))));
  for (; i < len; i++) store<f32>(at(out, i), load<f32>(at(a, i)) + load<f32>(at(b, i)));
}

/** Σ_c u[c]·v[c] over dh lanes (dh a multiple of 4 in the vector part). */
@inline function dot(u: usize, v: usize, dh: i32): f32 {
  let s = f32x4.splat(0);
  let c = 0;
  for (; c + 4 <= dh; c += 4) s = madd(v128.load(at(u, c)), v128.load(at(v, c)), s);
  let r = hsum(s);
  for (; c < dh; c++) r += load<f32>(at(u, c)) * load<f32>(at(v, c));
  return r;
}

/** dst[0..dh) += w·src[0..dh). */
@inline function axpy(dst: usize, w: f32, src: usize, dh: i32): void {
  const wv = f32x4.splat(w);
  let c = 0;
  for (; c + 4 <= dh; c += 4) v128.store(at(dst, c), madd(wv, v128.load(at(src, c)), v128.load(at(dst, c))));
  for (; c < dh; c++) store<f32>(at(dst, c), load<f32>(at(dst, c)) + w * load<f32>(at(src, c)));
}

/** Address of key/value row j (prefix rows first, then the sequence's own) for head column col. */
@inline function kvRow(own: usize, pre: usize, bi: i32, j: i32, t: i32, p: i32, d: i32, col: i32): usize {
  return j < p ? at(pre, j * d + col) : at(own, (bi * t + j - p) * d + col);
}

/**
 * exp(q·k_j/√dh − max) for the n keys a query sees, into s[0..n); returns their sum (src/engine/ops/attention/cpu.ts
 * unnormalizedSoftmaxRow). `s` is scratch of at least p + t floats, one per thread.
 */
@inline function softmaxRow(q: usize, k: usize, kp: usize, bi: i32, qo: i32, col: i32, n: i32, t: i32, p: i32, d: i32, dh: i32, scale: f32, s: usize): f32 {
  let mx: f32 = -Infinity;
  for (let j = 0; j < n; j++) {
    const v = dot(at(q, qo), kvRow(k, kp, bi, j, t, p, d, col), dh) * scale;
    store<f32>(at(s, j), v);
    mx = max(mx, v);
  }
  let l: f32 = 0;
  for (let j = 0; j < n; j++) {
    const e = Mathf.exp(load<f32>(at(s, j)) - mx);
    store<f32>(at(s, j), e);
    l += e;
  }
  return l;
}

/**
 * Causal multi-head attention of b sequences of t own positions after a shared prefix of p positions
 * (src/engine/ops/attention/cpu.ts). Sequences b0..b1 only, so threads can split by sequence.
 */
export function attentionForward(q: usize, k: usize, v: usize, kp: usize, vp: usize, o: usize, b0: i32, b1: i32, t: i32, p: i32, h: i32, dh: i32, s: usize): void {
  const d = h * dh;
  const scale = <f32>1 / Mathf.sqrt(<f32>dh);
  for (let bi = b0; bi < b1; bi++) {
    for (let hi = 0; hi < h; hi++) {
      const col = hi * dh;
      for (let i = 0; i < t; i++) {
        const qo = (bi * t + i) * d + col;
        const n = p + i + 1;
        const l = softmaxRow(q, k, kp, bi, qo, col, n, t, p, d, dh, scale, s);
        const out = at(o, qo);
        for (let c = 0; c < dh; c++) store<f32>(at(out, c), 0);
        const inv = <f32>1 / l;
        for (let j = 0; j < n; j++) axpy(out, load<f32>(at(s, j)) * inv, kvRow(v, vp, bi, j, t, p, d, col), dh);
      }
    }
  }
}

/**
 * Gradients of attentionForward w.r.t. q, k, v (zeroed here) and the prefix's kp, vp (accumulated: the caller
 * zeroes them once, every sequence adds to them). Sequences b0..b1; the prefix gradients are shared, so a
 * threaded caller gives each thread its own dkp/dvp and sums them.
 */
export function attentionBackward(q: usize, k: usize, v: usize, kp: usize, vp: usize, o: usize, dO: usize, dq: usize, dk: usize, dv: usize, dkp: usize, dvp: usize, b0: i32, b1: i32, t: i32, p: i32, h: i32, dh: i32, s: usize): void {
  const d = h * dh;
  const scale = <f32>1 / Mathf.sqrt(<f32>dh);
  memory.fill(at(dq, b0 * t * d), 0, <usize>((b1 - b0) * t * d) << 2);
  memory.fill(at(dk, b0 * t * d), 0, <usize>((b1 - b0) * t * d) << 2);
  memory.fill(at(dv, b0 * t * d), 0, <usize>((b1 - b0) * t * d) << 2);
  for (let bi = b0; bi < b1; bi++) {
    for (let hi = 0; hi < h; hi++) {
      const col = hi * dh;
      for (let i = 0; i < t; i++) {
        const qo = (bi * t + i) * d + col;
        const n = p + i + 1;
        const l = softmaxRow(q, k, kp, bi, qo, col, n, t, p, d, dh, scale, s);
        const inv = <f32>1 / l;
        const delta = dot(at(dO, qo), at(o, qo), dh);
        for (let j = 0; j < n; j++) {
          const pj = load<f32>(at(s, j)) * inv;
          const vr = kvRow(v, vp, bi, j, t, p, d, col);
          const ds = pj * (dot(at(dO, qo), vr, dh) - delta);
          axpy(at(dq, qo), scale * ds, kvRow(k, kp, bi, j, t, p, d, col), dh);
          axpy(kvRow(dk, dkp, bi, j, t, p, d, col), scale * ds, at(q, qo), dh);
          axpy(kvRow(dv, dvp, bi, j, t, p, d, col), pj, at(dO, qo), dh);
        }
      }
    }
  }
}
