import { matmulCpu } from '../matmul/cpu';
import type { Matmul } from '../linear/cpu';
import { like, type Arr, type IndexArr } from '../tensor';

export interface CosineCEDims {
  /** Images (rows of logits). */
  n: number;
  /** Classes (prompts). */
  k: number;
  /** Embedding width. */
  e: number;
  /** CLIP's exp(logit_scale), typically 100. */
  scale: number;
}

/**
 * logits[n,k] = scale·img[n]·txt[k] (both already L2-normalised),
 * loss = mean_n CE(logits[n], label[n]). Also returns the row logsumexp,
 * which backward uses to form the softmax without another max/sum pass.
 */
export function cosineCEForwardCpu(img: Arr, txt: Arr, labels: IndexArr, dims: CosineCEDims, mm: Matmul = matmulCpu): { loss: number; logits: Arr; lse: Arr } {
  const { n, k, e, scale } = dims;
  const logits = mm(img, txt, { m: n, n: k, k: e, transB: true, alpha: scale });
  const lse = like(logits, n);
  let total = 0;
  for (let r = 0; r < n; r++) {
    let m = -Infinity;
    for (let c = 0; c < k; c++) m = Math.max(m, logits[r * k + c]);
    let s = 0;
    for (let c = 0; c < k; c++) s += Math.exp(logits[r * k + c] - m);
    lse[r] = m + Math.log(s);
    total += lse[r] - logits[r * k + labels[r]];
  }
  return { loss: total / n, logits, lse };
}

/**
 * dLogits = gLoss·(softmax - onehot)/N; dTxt[k] = scale·Σ_n dLogits[n,k]·img[n].
 * img is a constant (precomputed image features), so only dTxt is returned.
 */
export function cosineCEBackwardCpu(img: Arr, logits: Arr, lse: Arr, labels: IndexArr, dims: CosineCEDims, gLoss = 1, mm: Matmul = matmulCpu): { dTxt: Arr; dLogits: Arr } {
  const { n, k, e, scale } = dims;
  const dLogits = like(logits, n * k);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < k; c++) {
      const p = Math.exp(logits[r * k + c] - lse[r]);
      dLogits[r * k + c] = (gLoss / n) * (p - (c === labels[r] ? 1 : 0));
    }
  }
  const dTxt = mm(dLogits, img, { m: k, n: e, k: n, transA: true, alpha: scale });
  return { dTxt, dLogits };
}
