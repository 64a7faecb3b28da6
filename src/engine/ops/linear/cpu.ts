import { matmulCpu, type MatmulShape } from '../matmul/cpu';
import type { Arr } from '../tensor';

/** The matmul a CPU engine's kernel set provides (src/engine/ops/kernels.ts); the twin's by default. */
export type Matmul = (a: Arr, b: Arr, s: MatmulShape, bias?: Arr, into?: Arr) => Arr;

/** Y[n,out] = X[n,in]·W[in,out] + b[out]. W is in ONNX MatMul layout (PyTorch weight transposed). */
export function linearForwardCpu(x: Arr, w: Arr, b: Arr | undefined, n: number, inDim: number, outDim: number, mm: Matmul = matmulCpu): Arr {
  return mm(x, w, { m: n, n: outDim, k: inDim }, b);
}

/** dX[n,in] = dY[n,out]·Wᵀ. Weights are frozen, so there is no dW or db. */
export function linearBackwardCpu(dy: Arr, w: Arr, n: number, inDim: number, outDim: number, mm: Matmul = matmulCpu): Arr {
  return mm(dy, w, { m: n, n: inDim, k: outDim, transB: true });
}
