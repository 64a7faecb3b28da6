import assert from 'node:assert/strict';
import { waitForResults } from './app.mjs';

// WebGPU and CPU kernels sum in different orders; a top-1 that differs only where the reference
// itself has a near tie is float noise, not a bug.
const TIE = 0.02;

/** Waits for every card, then checks each top-1 label and probability against onnxruntime-node on the app's own pixels. */
export async function comparePredictions(page, reference, files, names, templates) {
  const results = await waitForResults(page, files.length);
  const done = results.filter((r) => r.state === 'done');
  assert.equal(done.length, files.length, `all images classified: ${JSON.stringify(results.filter((r) => r.state !== 'done'))}`);
  const pixels = await page.evaluate((wanted) => wanted.map((n) => window.__coopE2E.pixels[n]), done.map((r) => r.name));
  const expected = await reference.predict(pixels.map((p) => Float32Array.from(p)), names, templates);
  let maxDiff = 0;
  done.forEach((r, i) => {
    const exp = expected[i];
    const pBrowserTop = exp.probs[names.indexOf(r.top1)];
    const pNodeTop = Math.max(...exp.probs);
    if (r.top1 !== exp.top1) {
      assert.ok(pNodeTop - pBrowserTop < TIE, `${r.name}: app says ${r.top1}, onnxruntime-node says ${exp.top1} (p ${pNodeTop.toFixed(4)} vs ${pBrowserTop.toFixed(4)})`);
    }
    // The card shows one decimal of a percentage.
    maxDiff = Math.max(maxDiff, Math.abs(r.topP - pBrowserTop));
  });
  assert.ok(maxDiff < 0.002, `shown probabilities within 0.1 % of onnxruntime-node (max diff ${maxDiff})`);
  return results;
}
