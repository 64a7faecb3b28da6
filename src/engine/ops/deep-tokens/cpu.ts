/**
 * Deep tokens (tower.ts): tokens that replace the hidden states at positions 1..M at a block's input, for one run
 * of B rows × S positions whose first position is `offset` (a class chunk after a shared prefix of `offset`
 * positions, or the prefix itself at 0). Rows are r0 + b of the step: per-row tokens [R, M, D] are read at that row.
 */
import type { Arr } from '../tensor';

export interface DeepTokenDims {
  b: number;
  s: number;
  d: number;
  /** Tokens per row: positions 1..m are replaced. */
  m: number;
  /** Absolute position of the run's first position. */
  offset: number;
  /** The run's first row in the step (per-row tokens). */
  r0: number;
  perRow: boolean;
}

function eachReplaced(g: DeepTokenDims, f: (xo: number, to: number) => void): void {
  for (let m = 0; m < g.m; m++) {
    const s = 1 + m - g.offset;
    if (s < 0 || s >= g.s) continue;
    for (let b = 0; b < g.b; b++) f((b * g.s + s) * g.d, ((g.perRow ? (g.r0 + b) * g.m : 0) + m) * g.d);
  }
}

/** x[b, 1 + m − offset] = tokens[m] (or tokens[r0 + b, m]), in place. */
export function deepTokensReplaceCpu(x: Arr, tokens: Arr, g: DeepTokenDims): void {
  eachReplaced(g, (xo, to) => {
    for (let j = 0; j < g.d; j++) x[xo + j] = tokens[to + j];
  });
}

/** grad[token] += dX at its positions (summed over rows when shared), then dX = 0 there: nothing flows below. */
export function deepTokensCollectCpu(dx: Arr, grad: Arr | undefined, g: DeepTokenDims): void {
  eachReplaced(g, (xo, to) => {
    for (let j = 0; j < g.d; j++) {
      if (grad) grad[to + j] += dx[xo + j];
      dx[xo + j] = 0;
    }
  });
}
