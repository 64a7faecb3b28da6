/**
 * SGD as torch.optim.SGD (the optimizer CoOp trains the context with: momentum 0.9, weight decay 5e-4):
 *   d = g + wd·p;  buf = d on the first step, else momentum·buf + (1 − dampening)·d;
 *   step = nesterov ? d + momentum·buf : buf;  p −= lr·step.
 * Parameters, gradients and the momentum buffer are fp32 as in PyTorch; the arithmetic of one element is done in
 * doubles and rounded on store, so results agree with PyTorch to about one ulp per step.
 */

export interface SgdOptions {
  momentum: number;
  weightDecay: number;
  dampening?: number;
  nesterov?: boolean;
}

/** The optimizer's memory; null until the first step, as PyTorch's lazily created momentum_buffer. */
export interface SgdState {
  momentumBuffer: Float32Array | null;
}

export function createSgdState(): SgdState {
  return { momentumBuffer: null };
}

export function cloneSgdState(s: SgdState): SgdState {
  return { momentumBuffer: s.momentumBuffer ? s.momentumBuffer.slice() : null };
}

/** One update of `params` in place. */
export function sgdStep(params: Float32Array, grad: ArrayLike<number>, state: SgdState, lr: number, opts: SgdOptions): void {
  const n = params.length;
  if (grad.length !== n) throw new RangeError(`gradient has ${grad.length} values, parameters ${n}`);
  const { momentum, weightDecay: wd, dampening = 0, nesterov = false } = opts;
  if (nesterov && (momentum <= 0 || dampening !== 0)) throw new RangeError('Nesterov momentum requires a momentum and zero dampening');
  if (momentum === 0) {
    for (let i = 0; i < n; i++) params[i] -= lr * (grad[i] + wd * params[i]);
    return;
  }
  const first = state.momentumBuffer === null;
  if (first) state.momentumBuffer = new Float32Array(n);
  const buf = state.momentumBuffer!;
  if (buf.length !== n) throw new RangeError(`momentum buffer has ${buf.length} values, parameters ${n}`);
  for (let i = 0; i < n; i++) {
    const d = grad[i] + wd * params[i];
    buf[i] = first ? d : momentum * buf[i] + (1 - dampening) * d;
    params[i] -= lr * (nesterov ? d + momentum * buf[i] : buf[i]);
  }
}
