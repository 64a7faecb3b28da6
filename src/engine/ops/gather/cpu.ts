import { like, type Arr, type IndexArr } from '../tensor';

/** out[b] = X[b, idx[b]] for X [B,T,D] (the EOS-token gather). */
export function gatherRowsForwardCpu(x: Arr, idx: IndexArr, b: number, t: number, d: number): Arr {
  const out = like(x, b * d);
  for (let s = 0; s < b; s++) {
    const src = (s * t + idx[s]) * d;
    for (let c = 0; c < d; c++) out[s * d + c] = x[src + c];
  }
  return out;
}

/** dX [B,T,D]: zeros except dX[b, idx[b]] = dOut[b]. */
export function gatherRowsBackwardCpu(dOut: Arr, idx: IndexArr, b: number, t: number, d: number): Arr {
  const dx = like(dOut, b * t * d);
  for (let s = 0; s < b; s++) {
    const dst = (s * t + idx[s]) * d;
    for (let c = 0; c < d; c++) dx[dst + c] = dOut[s * d + c];
  }
  return dx;
}
