/**
 * The two leading principal components of a set of feature rows, by power iteration on the centred data (the
 * covariance is never formed: each iteration is Xᵀ(Xv), 2·N·D multiply-adds). Used to draw CLIP's image
 * features and the prompts' text features on one plane (the Train page's "watch the prompts move").
 * Host-free and deterministic: the start vector comes from a fixed seed, and each axis's sign is fixed so that its
 * largest-magnitude entry is positive, so the same data gives the same picture after a reload.
 */

export interface Pca2 {
  /** Feature width D. */
  dim: number;
  /** [D] mean of the rows the axes were fitted on. */
  mean: Float64Array;
  /** Two orthonormal [D] axes, the first of larger variance. */
  axes: [Float64Array, Float64Array];
  /** The variance of the centred rows along each axis (the covariance's two largest eigenvalues, divided by N). */
  variances: [number, number];
}

export interface PcaOptions {
  /** Most power iterations per axis; it stops earlier once the axis moves less than `tolerance`. */
  maxIterations?: number;
  tolerance?: number;
}

/** A small deterministic start vector (xorshift), not aligned with any coordinate axis. */
function startVector(dim: number, salt: number): Float64Array {
  let s = (0x9e3779b9 ^ salt) >>> 0 || 1;
  const v = new Float64Array(dim);
  for (let i = 0; i < dim; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    v[i] = s / 0xffffffff - 0.5;
  }
  return v;
}

/** Scales `v` to unit length and returns its former length; scaled by its largest entry first, so tiny vectors do not underflow. */
function normalize(v: Float64Array): number {
  let big = 0;
  for (let i = 0; i < v.length; i++) big = Math.max(big, Math.abs(v[i]));
  if (big === 0 || !Number.isFinite(big)) return 0;
  let n = 0;
  for (let i = 0; i < v.length; i++) n += (v[i] / big) ** 2;
  n = Math.sqrt(n);
  for (let i = 0; i < v.length; i++) v[i] = v[i] / big / n;
  return n * big;
}

function removeComponent(v: Float64Array, along: Float64Array): void {
  let d = 0;
  for (let i = 0; i < v.length; i++) d += v[i] * along[i];
  for (let i = 0; i < v.length; i++) v[i] -= d * along[i];
}

/** Cv for the covariance C = XcᵀXc / n of the centred rows, without forming C. */
function covTimes(x: ArrayLike<number>, mean: Float64Array, n: number, dim: number, v: Float64Array, out: Float64Array): void {
  out.fill(0);
  for (let r = 0; r < n; r++) {
    const o = r * dim;
    let p = 0;
    for (let j = 0; j < dim; j++) p += (x[o + j] - mean[j]) * v[j];
    for (let j = 0; j < dim; j++) out[j] += p * (x[o + j] - mean[j]);
  }
  for (let j = 0; j < dim; j++) out[j] /= n;
}

/** Fits the two leading principal axes of `n` rows of width `dim` (row-major). */
export function fitPca2(x: ArrayLike<number>, n: number, dim: number, options: PcaOptions = {}): Pca2 {
  if (n < 1 || dim < 1 || x.length < n * dim) throw new Error(`PCA needs ${n} rows of ${dim} values; got ${x.length} values.`);
  const maxIterations = options.maxIterations ?? 300;
  const tolerance = options.tolerance ?? 1e-9;
  const mean = new Float64Array(dim);
  for (let r = 0; r < n; r++) for (let j = 0; j < dim; j++) mean[j] += x[r * dim + j];
  for (let j = 0; j < dim; j++) mean[j] /= n;

  const axes: Float64Array[] = [];
  const variances: number[] = [];
  const next = new Float64Array(dim);
  for (let k = 0; k < 2; k++) {
    const v = startVector(dim, k + 1);
    for (const a of axes) removeComponent(v, a);
    normalize(v);
    let lambda = 0;
    for (let it = 0; it < maxIterations; it++) {
      covTimes(x, mean, n, dim, v, next);
      // Deflation by projection: the k-th axis is sought orthogonal to the ones found.
      for (const a of axes) removeComponent(next, a);
      lambda = normalize(next);
      if (lambda === 0) break;
      let change = 0;
      for (let j = 0; j < dim; j++) change = Math.max(change, Math.abs(next[j] - v[j]));
      v.set(next);
      if (change < tolerance) break;
    }
    if (lambda === 0) {
      // No variance left (all rows equal, or rank 1 for the second axis): any orthonormal direction will do.
      v.set(startVector(dim, 7 + k));
      for (const a of axes) removeComponent(v, a);
      normalize(v);
    }
    let big = 0;
    for (let j = 1; j < dim; j++) if (Math.abs(v[j]) > Math.abs(v[big])) big = j;
    if (v[big] < 0) for (let j = 0; j < dim; j++) v[j] = -v[j];
    // The Rayleigh quotient is the variance along the final axis (λ from the last step is the same at convergence).
    covTimes(x, mean, n, dim, v, next);
    let q = 0;
    for (let j = 0; j < dim; j++) q += v[j] * next[j];
    axes.push(v);
    variances.push(Math.max(0, q));
  }
  return { dim, mean, axes: [axes[0], axes[1]], variances: [variances[0], variances[1]] };
}

/**
 * [n, 2] coordinates of rows on the fitted axes, each row minus `center` (the fit's mean by default; a text set
 * is centred on its own class mean, so only how the classes' prompts differ is drawn).
 */
export function projectPca2(p: Pca2, x: ArrayLike<number>, n: number, center: ArrayLike<number> = p.mean): Float32Array {
  const out = new Float32Array(n * 2);
  const [a, b] = p.axes;
  for (let r = 0; r < n; r++) {
    let u = 0;
    let w = 0;
    for (let j = 0; j < p.dim; j++) {
      const c = x[r * p.dim + j] - center[j];
      u += c * a[j];
      w += c * b[j];
    }
    out[2 * r] = u;
    out[2 * r + 1] = w;
  }
  return out;
}

/** [dim] mean of `n` rows. */
export function rowMean(x: ArrayLike<number>, n: number, dim: number): Float32Array {
  const m = new Float32Array(dim);
  for (let r = 0; r < n; r++) for (let j = 0; j < dim; j++) m[j] += x[r * dim + j];
  if (n > 0) for (let j = 0; j < dim; j++) m[j] /= n;
  return m;
}
