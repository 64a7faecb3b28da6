import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { clearImages, readAccuracy, setClasses, waitForClassFeatures, waitForModel, waitForResults } from '../lib/app.mjs';
import { BASE_URL } from '../lib/server.mjs';
import { openPage } from '../lib/browser.mjs';
import { drawShapes } from '../lib/shapes.mjs';

const { DEFAULT_TEMPLATE, TEMPLATES } = await import('../../src/app/zero-shot/templates.ts');
const CLASSES = ['circle', 'square', 'triangle', 'star', 'cross', 'ring', 'heart', 'diamond'];
// WebGPU and CPU kernels sum in different orders; a top-1 that differs only where the reference
// itself has a near tie is float noise, not a bug.
const TIE = 0.02;

async function comparePredictions(page, reference, files, names, templates) {
  const results = await waitForResults(page, files.length);
  const pixels = await page.evaluate(() => window.__coopE2E.pixels);
  const done = results.filter((r) => r.state === 'done');
  assert.equal(done.length, files.length, `all images classified: ${JSON.stringify(results.filter((r) => r.state !== 'done'))}`);
  const expected = await reference.predict(done.map((r) => Float32Array.from(pixels[r.name])), names, templates);
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

async function sampleAccuracy(page, root, ep, log) {
  const index = join(root, 'public/samples/index.json');
  if (!existsSync(index)) return log(`  (${ep}) no public/samples/index.json: sample accuracy not measured`);
  const { splits, classes } = JSON.parse(readFileSync(index, 'utf8'));
  for (const split of ['test', 'shifted'].filter((s) => splits[s])) {
    await page.click(`[data-testid="sample-${split}"]`);
    await waitForClassFeatures(page, classes);
    await waitForResults(page, splits[split].length);
    const { correct, total } = await readAccuracy(page);
    log(`  zero-shot accuracy (${ep}, ${split} split, "a photo of a {}."): ${(100 * correct / total).toFixed(1)}% (${correct}/${total})`);
  }
}

function predictionTest(ep) {
  return async ({ context, reference, root, log }) => {
    const query = ep === 'wasm' ? '?e2e=1&ep=wasm' : '?e2e=1';
    const page = await openPage(context, BASE_URL + query);
    try {
      assert.equal(await waitForModel(page), ep, `EP badge says ${ep}`);
      await setClasses(page, CLASSES);
      await waitForClassFeatures(page, CLASSES);
      const files = await drawShapes(page);
      await page.setInputFiles('[data-testid="file-input"]', files.map(({ label: _l, ...f }) => f));
      const single = await comparePredictions(page, reference, files, CLASSES, [DEFAULT_TEMPLATE]);
      await page.selectOption('[data-testid="template"]', { label: `Ensemble of all ${TEMPLATES.length} templates` });
      await waitForClassFeatures(page, CLASSES, TEMPLATES.length);
      const ensemble = await comparePredictions(page, reference, files, CLASSES, TEMPLATES);
      const correct = (rs) => rs.filter((r) => r.top1 === files.find((f) => f.name === r.name).label).length;
      log(`  (${ep}) drawn shapes, labels equal to onnxruntime-node's: ${correct(single)}/${files.length} correct with one template, ${correct(ensemble)}/${files.length} with the ensemble`);
      await page.selectOption('[data-testid="template"]', DEFAULT_TEMPLATE);
      await waitForClassFeatures(page, CLASSES);
      await clearImages(page);
      await sampleAccuracy(page, root, ep, log);
    } catch (e) {
      e.message += page.log.length ? `\n  page log:\n  ${page.log.join('\n  ')}` : '';
      throw e;
    } finally {
      await page.close();
    }
  };
}

export const webgpuPredictions = predictionTest('webgpu');
export const wasmPredictions = predictionTest('wasm');
