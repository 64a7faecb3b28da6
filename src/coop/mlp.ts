/**
 * The two-layer MLP the successors learn on the host, Linear → activation → Linear on rows x [N, I] with PyTorch's
 * Linear layout (weight [out, in]), in Float64, and its parameter gradients (the input is frozen): CoCoOp's Meta-Net
 * (ReLU, on image features) and TCP's class MLP (QuickGELU, on the hand-written prompts' features).
 */
import { QUICK_GELU_ALPHA } from '../engine/ops/quickgelu/cpu';

export type Activation = 'relu' | 'quickgelu';

/** W₁ [H, I], b₁ [H], W₂ [O, H], b₂ [O]. */
export interface Mlp {
  w1: ArrayLike<number>;
  b1: ArrayLike<number>;
  w2: ArrayLike<number>;
  b2: ArrayLike<number>;
}

export interface MlpForward {
  /** Pre-activation [N, H], activation [N, H], output [N, O]. */
  pre: Float64Array;
  act: Float64Array;
  out: Float64Array;
}

export interface MlpGrads {
  w1: Float64Array;
  b1: Float64Array;
  w2: Float64Array;
  b2: Float64Array;
}

const GELU_K = QUICK_GELU_ALPHA;
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** x · σ(1.702 x), CLIP's QuickGELU (the text tower's, src/engine/ops/quickgelu), one value at a time. */
export function quickGelu(x: number): number {
  return x * sigmoid(GELU_K * x);
}

/** d/dx of quickGelu: σ(kx) + k x σ(kx)(1 − σ(kx)). */
export function quickGeluGrad(x: number): number {
  const s = sigmoid(GELU_K * x);
  return s + GELU_K * x * s * (1 - s);
}

const ACT: Record<Activation, { f: (x: number) => number; df: (x: number) => number }> = {
  relu: { f: (x) => Math.max(x, 0), df: (x) => (x > 0 ? 1 : 0) }, // torch's ReLU gradient at 0 is 0
  quickgelu: { f: quickGelu, df: quickGeluGrad },
};

export function mlpForward(p: Mlp, x: ArrayLike<number>, N: number, activation: Activation): MlpForward {
  const H = p.b1.length;
  const O = p.b2.length;
  const I = p.w1.length / H;
  const { f } = ACT[activation];
  const pre = new Float64Array(N * H);
  const act = new Float64Array(N * H);
  const out = new Float64Array(N * O);
  for (let n = 0; n < N; n++) {
    for (let h = 0; h < H; h++) {
      let s = p.b1[h];
      for (let i = 0; i < I; i++) s += p.w1[h * I + i] * x[n * I + i];
      pre[n * H + h] = s;
      act[n * H + h] = f(s);
    }
    for (let o = 0; o < O; o++) {
      let s = p.b2[o];
      for (let h = 0; h < H; h++) s += p.w2[o * H + h] * act[n * H + h];
      out[n * O + o] = s;
    }
  }
  return { pre, act, out };
}

/** d loss / d each tensor from d loss / d out [N, O], summed over the rows. */
export function mlpBackward(p: Mlp, x: ArrayLike<number>, fwd: MlpForward, dOut: ArrayLike<number>, N: number, activation: Activation): MlpGrads {
  const H = p.b1.length;
  const O = p.b2.length;
  const I = p.w1.length / H;
  const { df } = ACT[activation];
  const g: MlpGrads = { w1: new Float64Array(H * I), b1: new Float64Array(H), w2: new Float64Array(O * H), b2: new Float64Array(O) };
  const dPre = new Float64Array(H);
  for (let n = 0; n < N; n++) {
    dPre.fill(0);
    for (let o = 0; o < O; o++) {
      const go = dOut[n * O + o];
      if (go === 0) continue;
      g.b2[o] += go;
      for (let h = 0; h < H; h++) {
        g.w2[o * H + h] += go * fwd.act[n * H + h];
        dPre[h] += go * p.w2[o * H + h];
      }
    }
    for (let h = 0; h < H; h++) {
      const gh = dPre[h] * df(fwd.pre[n * H + h]);
      if (gh === 0) continue;
      g.b1[h] += gh;
      for (let i = 0; i < I; i++) g.w1[h * I + i] += gh * x[n * I + i];
    }
  }
  return g;
}
