import { matmulCpu } from '../matmul/cpu';
import type { Arr } from '../tensor';

/** Y[n,out] = X[n,in]·W[in,out] + b[out]. W is in ONNX MatMul layout (PyTorch weight transposed). */
export function linearForwardCpu(x: Arr, w: Arr, b: Arr | undefined, n: number, inDim: number, outDim: number): Arr {
  return matmulCpu(x, w, { m: n, n: outDim, k: inDim }, b);
}

/** dX[n,in] = dY[n,out]·Wᵀ. Weights are frozen, so there is no dW or db. */
export function linearBackwardCpu(dy: Arr, w: Arr, n: number, inDim: number, outDim: number): Arr {
  return matmulCpu(dy, w, { m: n, n: inDim, k: outDim, transB: true });
}
