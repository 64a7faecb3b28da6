/**
 * Adam as torch.optim.Adam (1.13, amsgrad off), the optimizer Dassl builds for OPTIM.NAME "adam" (TCP's configs):
 *   d = g + wd·p  (L2 decay added to the gradient, not AdamW's decoupled decay);
 *   m = β1·m + (1 − β1)·d;  v = β2·v + (1 − β2)·d²;  t += 1;
 *   p −= lr / (1 − β1^t) · m / (√v / √(1 − β2^t) + ε).
 * Dassl passes betas (OPTIM.ADAM_BETA1 0.9, OPTIM.ADAM_BETA2 0.999) and keeps PyTorch's ε 1e-8. As in sgd.ts,
 * parameters and both moments are fp32 and one element's arithmetic is done in doubles and rounded on store.
 */

export const ADAM_DEFAULTS = Object.freeze({ beta1: 0.9, beta2: 0.999, eps: 1e-8 });

export interface AdamOptions {
  weightDecay: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
}

/** One tensor's memory: PyTorch's state['step'], exp_avg and exp_avg_sq (null until the first step, as PyTorch creates them lazily). */
export interface AdamState {
  step: number;
  expAvg: Float32Array | null;
  expAvgSq: Float32Array | null;
}

export function createAdamState(): AdamState {
  return { step: 0, expAvg: null, expAvgSq: null };
}

export function cloneAdamState(s: AdamState): AdamState {
  return { step: s.step, expAvg: s.expAvg ? s.expAvg.slice() : null, expAvgSq: s.expAvgSq ? s.expAvgSq.slice() : null };
}

/** One update of `params` in place. */
export function adamStep(params: Float32Array, grad: ArrayLike<number>, state: AdamState, lr: number, opts: AdamOptions): void {
  const n = params.length;
  if (grad.length !== n) throw new RangeError(`gradient has ${grad.length} values, parameters ${n}`);
  const { weightDecay: wd, beta1 = ADAM_DEFAULTS.beta1, beta2 = ADAM_DEFAULTS.beta2, eps = ADAM_DEFAULTS.eps } = opts;
  if (state.expAvg === null || state.expAvgSq === null) {
    state.expAvg = new Float32Array(n);
    state.expAvgSq = new Float32Array(n);
  }
  const m = state.expAvg;
  const v = state.expAvgSq;
  if (m.length !== n || v.length !== n) throw new RangeError(`Adam's moments have ${m.length} and ${v.length} values, parameters ${n}`);
  state.step += 1;
  const t = state.step;
  const stepSize = lr / (1 - beta1 ** t);
  const bc2Sqrt = Math.sqrt(1 - beta2 ** t);
  for (let i = 0; i < n; i++) {
    const d = grad[i] + wd * params[i];
    m[i] = beta1 * m[i] + (1 - beta1) * d;
    v[i] = beta2 * v[i] + (1 - beta2) * d * d;
    params[i] -= (stepSize * m[i]) / (Math.sqrt(v[i]) / bc2Sqrt + eps);
  }
}
