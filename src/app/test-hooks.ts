/**
 * Opt-in window hooks for the e2e run (page URL with `e2e=1`): the preprocessed pixels of each image,
 * so the test can run the same tensors through onnxruntime-node and compare predictions.
 */
export interface E2EHooks {
  pixels: Record<string, number[]>;
}

declare global {
  interface Window {
    __coopE2E?: E2EHooks;
  }
}

const enabled = typeof location !== 'undefined' && new URLSearchParams(location.search).get('e2e') === '1';
if (enabled) window.__coopE2E = { pixels: {} };

export function recordPixels(name: string, pixels: Float32Array): void {
  if (window.__coopE2E) window.__coopE2E.pixels[name] = Array.from(pixels);
}
