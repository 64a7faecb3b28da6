/**
 * The CPU engines' kernel set: what the text transformer's forward and backward (src/engine/cpu-text-encoder.ts)
 * call for its heavy ops. Two implementations share that one composition:
 * - `referenceKernels`: the ops' JavaScript twins (src/engine/ops/<op>/cpu.ts), f64 accumulation, Float32 or
 *   Float64 arrays. The reference every other kernel is proven against; the finite-difference checks run on it.
 * - the WASM SIMD kernels (src/engine/wasm/kernels.ts): fp32, packed panels, threads. What trains on the CPU.
 * The light ops (embedding, EOS gather, L2 norm, the loss's softmax) stay in JavaScript for both: they touch a few
 * rows per step.
 */
import { addCpu, addInPlaceCpu } from './add/cpu';
import { attentionBackwardCpu, attentionForwardCpu, type AttentionDims, type AttentionGrads, type AttentionInputs } from './attention/cpu';
import { layerNormBackwardCpu, layerNormForwardCpu } from './layernorm/cpu';
import { matmulCpu, type MatmulShape } from './matmul/cpu';
import { quickGeluBackwardCpu, quickGeluForwardCpu } from './quickgelu/cpu';
import type { Arr } from './tensor';

export interface CpuKernels {
  /** 'reference' or 'wasm': shown in benchmarks and engine labels. */
  readonly name: string;
  /** C = alpha·op(A)·op(B) (+ bias) (+ into), as matmulCpu. */
  matmul(a: Arr, b: Arr, s: MatmulShape, bias?: Arr, into?: Arr): Arr;
  layerNormForward(x: Arr, gamma: Arr, beta: Arr, rows: number, d: number, eps?: number): { y: Arr; mean: Arr; rstd: Arr };
  layerNormBackward(dy: Arr, x: Arr, gamma: Arr, mean: Arr, rstd: Arr, rows: number, d: number): Arr;
  attentionForward(x: AttentionInputs, dims: AttentionDims): Arr;
  attentionBackward(x: AttentionInputs, o: Arr, dO: Arr, dims: AttentionDims): AttentionGrads;
  quickGeluForward(x: Arr): Arr;
  quickGeluBackward(dy: Arr, x: Arr): Arr;
  add(a: Arr, b: Arr): Arr;
  /** a += b, returning a. */
  addInPlace(a: Arr, b: Arr): Arr;
  /**
   * Bytes of activations a step may hold; with `mark`/`release`, the composition runs classes in chunks within it.
   * Absent: unbounded (the reference allocates JavaScript arrays, which the collector frees).
   */
  activationBudget?: number;
  /** A position in the kernel set's allocations, and freeing everything allocated after it (its views die). */
  mark?(): number;
  release?(mark: number): void;
}

export const referenceKernels: CpuKernels = {
  name: 'reference',
  matmul: matmulCpu,
  layerNormForward: layerNormForwardCpu,
  layerNormBackward: layerNormBackwardCpu,
  attentionForward: attentionForwardCpu,
  attentionBackward: attentionBackwardCpu,
  quickGeluForward: quickGeluForwardCpu,
  quickGeluBackward: quickGeluBackwardCpu,
  add: addCpu,
  addInPlace: addInPlaceCpu,
};
