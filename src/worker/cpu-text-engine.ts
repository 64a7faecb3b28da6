/**
 * CoOp's loss and its gradient with respect to the context vectors, on the CPU: the fallback the worker uses
 * when WebGPU is absent (and what it uses until the WGSL engine's step is wired). Same math as
 * src/engine (CLIP text tower forward, backward to the input embeddings only, scaled cosine logits,
 * mean cross-entropy), computed per class up to its own EOS: with the causal mask, later positions never
 * reach the EOS feature, so cutting there is exact.
 *
 * Everything is Float32 and row-major; weights are the frozen tensors read from text_model.onnx.
 */
import { assembleEmbeddings, promptLayout, scatterContextGrad, type PromptLayout, type PromptSpec } from '../engine/prompt';
import type { TextWeights } from '../engine/model/text-weights';
import type { TextEngineLike, TextStepResult } from './text-engine';

type F32 = Float32Array;

/** y[n,out] = x[n,in]·W[in,out] + b */
function linear(x: F32, w: ArrayLike<number>, b: ArrayLike<number> | null, n: number, inDim: number, outDim: number): F32 {
  const y = new Float32Array(n * outDim);
  for (let i = 0; i < n; i++) {
    const yo = i * outDim;
    if (b) for (let j = 0; j < outDim; j++) y[yo + j] = b[j];
    const xo = i * inDim;
    for (let k = 0; k < inDim; k++) {
      const xv = x[xo + k];
      if (xv === 0) continue;
      const wo = k * outDim;
      for (let j = 0; j < outDim; j++) y[yo + j] += xv * w[wo + j];
    }
  }
  return y;
}

/** dx[n,in] (+)= dy[n,out]·Wᵀ */
function linearBack(dy: F32, w: ArrayLike<number>, n: number, inDim: number, outDim: number, into?: F32): F32 {
  const dx = into ?? new Float32Array(n * inDim);
  for (let i = 0; i < n; i++) {
    const dyo = i * outDim;
    for (let k = 0; k < inDim; k++) {
      const wo = k * outDim;
      let s = 0;
      for (let j = 0; j < outDim; j++) s += dy[dyo + j] * w[wo + j];
      dx[i * inDim + k] += s;
    }
  }
  return dx;
}

interface LnSaved {
  xhat: F32;
  rstd: F32;
}

function layerNorm(x: F32, n: number, d: number, w: ArrayLike<number>, b: ArrayLike<number>, eps: number): { y: F32; saved: LnSaved } {
  const y = new Float32Array(n * d);
  const xhat = new Float32Array(n * d);
  const rstd = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    let mean = 0;
    for (let j = 0; j < d; j++) mean += x[o + j];
    mean /= d;
    let v = 0;
    for (let j = 0; j < d; j++) v += (x[o + j] - mean) ** 2;
    const r = 1 / Math.sqrt(v / d + eps);
    rstd[i] = r;
    for (let j = 0; j < d; j++) {
      const h = (x[o + j] - mean) * r;
      xhat[o + j] = h;
      y[o + j] = h * w[j] + b[j];
    }
  }
  return { y, saved: { xhat, rstd } };
}

/** Adds the layer norm's input gradient to `dx`. */
function layerNormBack(dy: F32, s: LnSaved, w: ArrayLike<number>, n: number, d: number, dx: F32): void {
  for (let i = 0; i < n; i++) {
    const o = i * d;
    let m1 = 0;
    let m2 = 0;
    for (let j = 0; j < d; j++) {
      const g = dy[o + j] * w[j];
      m1 += g;
      m2 += g * s.xhat[o + j];
    }
    m1 /= d;
    m2 /= d;
    const r = s.rstd[i];
    for (let j = 0; j < d; j++) dx[o + j] += r * (dy[o + j] * w[j] - m1 - s.xhat[o + j] * m2);
  }
}

interface LayerSaved {
  ln1: LnSaved;
  h: F32;
  q: F32;
  k: F32;
  v: F32;
  /** [H, T, T] attention probabilities (causal: zeros above the diagonal). */
  p: F32;
  ln2: LnSaved;
  f: F32;
}

const GELU_K = 1.702;
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/**
 * One prompt through the tower up to position T−1 (its EOS). Returns the final residual stream and, when asked,
 * what backward needs.
 */
function forwardSequence(w: TextWeights, emb: F32, T: number, save: boolean): { x: F32; saved: LayerSaved[] } {
  const { D, H, F, eps } = w.config;
  const dh = D / H;
  const scale = 1 / Math.sqrt(dh);
  let x = new Float32Array(T * D);
  for (let i = 0; i < T * D; i++) x[i] = emb[i] + w.positionEmbedding[i];
  const saved: LayerSaved[] = [];
  for (const lw of w.layers) {
    const n1 = layerNorm(x, T, D, lw.ln1.weight, lw.ln1.bias, eps);
    const q = linear(n1.y, lw.q.w, lw.q.b, T, D, D);
    const k = linear(n1.y, lw.k.w, lw.k.b, T, D, D);
    const v = linear(n1.y, lw.v.w, lw.v.b, T, D, D);
    const p = new Float32Array(H * T * T);
    const a = new Float32Array(T * D);
    for (let hh = 0; hh < H; hh++) {
      const ho = hh * dh;
      for (let i = 0; i < T; i++) {
        const row = (hh * T + i) * T;
        let max = -Infinity;
        for (let j = 0; j <= i; j++) {
          let s = 0;
          for (let e = 0; e < dh; e++) s += q[i * D + ho + e] * k[j * D + ho + e];
          s *= scale;
          p[row + j] = s;
          if (s > max) max = s;
        }
        let z = 0;
        for (let j = 0; j <= i; j++) {
          const ev = Math.exp(p[row + j] - max);
          p[row + j] = ev;
          z += ev;
        }
        for (let j = 0; j <= i; j++) {
          const pj = p[row + j] / z;
          p[row + j] = pj;
          for (let e = 0; e < dh; e++) a[i * D + ho + e] += pj * v[j * D + ho + e];
        }
      }
    }
    const o = linear(a, lw.out.w, lw.out.b, T, D, D);
    const xmid = new Float32Array(T * D);
    for (let i = 0; i < T * D; i++) xmid[i] = x[i] + o[i];
    const n2 = layerNorm(xmid, T, D, lw.ln2.weight, lw.ln2.bias, eps);
    const f = linear(n2.y, lw.fc1.w, lw.fc1.b, T, D, F);
    const g = new Float32Array(T * F);
    for (let i = 0; i < T * F; i++) g[i] = f[i] * sigmoid(GELU_K * f[i]);
    const m = linear(g, lw.fc2.w, lw.fc2.b, T, F, D);
    const xout = new Float32Array(T * D);
    for (let i = 0; i < T * D; i++) xout[i] = xmid[i] + m[i];
    if (save) saved.push({ ln1: n1.saved, h: n1.y, q, k, v, p, ln2: n2.saved, f });
    x = xout;
  }
  return { x, saved };
}

/** Gradient of the sequence's input embeddings from the gradient of its final residual stream. */
function backwardSequence(w: TextWeights, saved: LayerSaved[], dxOut: F32, T: number): F32 {
  const { D, H, F } = w.config;
  const dh = D / H;
  const scale = 1 / Math.sqrt(dh);
  let dx = dxOut;
  for (let l = w.layers.length - 1; l >= 0; l--) {
    const lw = w.layers[l];
    const s = saved[l];
    // MLP branch: xout = xmid + fc2(gelu(fc1(ln2(xmid))))
    const dg = linearBack(dx, lw.fc2.w, T, F, D);
    for (let i = 0; i < T * F; i++) {
      const z = s.f[i];
      const sg = sigmoid(GELU_K * z);
      dg[i] *= sg + z * GELU_K * sg * (1 - sg);
    }
    const dh2 = linearBack(dg, lw.fc1.w, T, D, F);
    const dxmid = dx.slice();
    layerNormBack(dh2, s.ln2, lw.ln2.weight, T, D, dxmid);
    // Attention branch: xmid = x + out(attn(ln1(x)))
    const da = linearBack(dxmid, lw.out.w, T, D, D);
    const dq = new Float32Array(T * D);
    const dk = new Float32Array(T * D);
    const dv = new Float32Array(T * D);
    const dp = new Float32Array(T);
    for (let hh = 0; hh < H; hh++) {
      const ho = hh * dh;
      for (let i = 0; i < T; i++) {
        const row = (hh * T + i) * T;
        let dot = 0;
        for (let j = 0; j <= i; j++) {
          let g = 0;
          for (let e = 0; e < dh; e++) g += da[i * D + ho + e] * s.v[j * D + ho + e];
          dp[j] = g;
          dot += g * s.p[row + j];
          const pj = s.p[row + j];
          for (let e = 0; e < dh; e++) dv[j * D + ho + e] += pj * da[i * D + ho + e];
        }
        for (let j = 0; j <= i; j++) {
          const ds = s.p[row + j] * (dp[j] - dot) * scale;
          if (ds === 0) continue;
          for (let e = 0; e < dh; e++) {
            dq[i * D + ho + e] += ds * s.k[j * D + ho + e];
            dk[j * D + ho + e] += ds * s.q[i * D + ho + e];
          }
        }
      }
    }
    const dh1 = linearBack(dq, lw.q.w, T, D, D);
    linearBack(dk, lw.k.w, T, D, D, dh1);
    linearBack(dv, lw.v.w, T, D, D, dh1);
    const dxin = dxmid.slice();
    layerNormBack(dh1, s.ln1, lw.ln1.weight, T, D, dxin);
    dx = dxin;
  }
  return dx;
}

export interface CpuTextEngineOptions {
  weights: TextWeights;
  /** Already exponentiated, as manifest.json's logit_scale. */
  logitScale: number;
}

/** The CPU twin of the engine's step and text features. */
export class CpuTextEngine implements TextEngineLike {
  readonly kind = 'cpu' as const;
  detail = 'CPU (JavaScript)';
  private layout: PromptLayout | null = null;

  constructor(private readonly opts: CpuTextEngineOptions) {}

  get weights(): TextWeights {
    return this.opts.weights;
  }

  setPrompts(spec: PromptSpec): void {
    this.layout = promptLayout(spec, this.opts.weights.config.V);
  }

  private requireLayout(): PromptLayout {
    if (!this.layout) throw new Error('the text engine has no prompts yet');
    return this.layout;
  }

  /** Final-LN'd, projected EOS features [K, E] (not normalized) and what backward needs. */
  private forward(ctx: F32, save: boolean) {
    const layout = this.requireLayout();
    const w = this.opts.weights;
    const { D, E, eps } = w.config;
    const T = layout.T;
    const emb = assembleEmbeddings(layout, w.tokenEmbedding, ctx, D) as F32;
    const raw = new Float32Array(layout.K * E);
    const perClass = [];
    for (let k = 0; k < layout.K; k++) {
      const Tk = layout.eos[k] + 1;
      const { x, saved } = forwardSequence(w, emb.subarray(k * T * D, k * T * D + Tk * D), Tk, save);
      const last = x.subarray((Tk - 1) * D, Tk * D);
      const n = layerNorm(last, 1, D, w.finalLn.weight, w.finalLn.bias, eps);
      raw.set(linear(n.y, w.projection, null, 1, D, E), k * E);
      perClass.push({ Tk, saved, lnf: n.saved });
    }
    return { layout, raw, perClass };
  }

  async textFeatures(ctx: F32): Promise<F32> {
    const { raw, layout } = this.forward(ctx, false);
    return normalizeRowsF32(raw, layout.K, this.opts.weights.config.E);
  }

  async step(ctx: F32, imageFeatures: F32, labels: Int32Array): Promise<TextStepResult> {
    const w = this.opts.weights;
    const { D, E } = w.config;
    const { layout, raw, perClass } = this.forward(ctx, true);
    const K = layout.K;
    const B = labels.length;
    const s = Math.min(this.opts.logitScale, 100);
    const norms = new Float32Array(K);
    const txt = new Float32Array(K * E);
    for (let k = 0; k < K; k++) {
      let ss = 0;
      for (let e = 0; e < E; e++) ss += raw[k * E + e] ** 2;
      norms[k] = Math.sqrt(ss);
      for (let e = 0; e < E; e++) txt[k * E + e] = raw[k * E + e] / norms[k];
    }
    const logits = new Float32Array(B * K);
    const dLogits = new Float32Array(B * K);
    let loss = 0;
    for (let b = 0; b < B; b++) {
      let max = -Infinity;
      for (let k = 0; k < K; k++) {
        let dot = 0;
        for (let e = 0; e < E; e++) dot += imageFeatures[b * E + e] * txt[k * E + e];
        logits[b * K + k] = s * dot;
        max = Math.max(max, s * dot);
      }
      let z = 0;
      for (let k = 0; k < K; k++) z += Math.exp(logits[b * K + k] - max);
      const lse = max + Math.log(z);
      loss += lse - logits[b * K + labels[b]];
      for (let k = 0; k < K; k++) dLogits[b * K + k] = Math.exp(logits[b * K + k] - lse) / B;
      dLogits[b * K + labels[b]] -= 1 / B;
    }
    loss /= B;
    const dEmb = new Float32Array(K * layout.T * D);
    for (let k = 0; k < K; k++) {
      // d txt_k = s Σ_b dlogits[b,k] img_b, then through the L2 normalization and the projection.
      const dt = new Float32Array(E);
      for (let b = 0; b < B; b++) {
        const g = s * dLogits[b * K + k];
        if (g === 0) continue;
        for (let e = 0; e < E; e++) dt[e] += g * imageFeatures[b * E + e];
      }
      let dot = 0;
      for (let e = 0; e < E; e++) dot += dt[e] * txt[k * E + e];
      const dRaw = new Float32Array(E);
      for (let e = 0; e < E; e++) dRaw[e] = (dt[e] - txt[k * E + e] * dot) / norms[k];
      const dLn = linearBack(dRaw, w.projection, 1, D, E);
      const { Tk, saved, lnf } = perClass[k];
      const dx = new Float32Array(Tk * D);
      layerNormBack(dLn, lnf, w.finalLn.weight, 1, D, dx.subarray((Tk - 1) * D));
      const dIn = backwardSequence(w, saved, dx, Tk);
      dEmb.set(dIn, k * layout.T * D);
    }
    const gradCtx = scatterContextGrad(layout, dEmb, D, layout.T) as F32;
    return { loss, logits, gradCtx };
  }

  dispose(): void {
    this.layout = null;
  }
}

export function normalizeRowsF32(m: F32, rows: number, dim: number): F32 {
  const out = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    let ss = 0;
    for (let e = 0; e < dim; e++) ss += m[r * dim + e] ** 2;
    const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
    for (let e = 0; e < dim; e++) out[r * dim + e] = m[r * dim + e] * inv;
  }
  return out;
}
