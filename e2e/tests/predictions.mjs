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

async function sampleAccuracy(page, reference, root, ep, log) {
  const index = join(root, 'public/samples/index.json');
  if (!existsSync(index)) return log(`  (${ep}) no public/samples/index.json: sample accuracy not measured`);
  const { splits, classes } = JSON.parse(readFileSync(index, 'utf8'));
  const labelOf = Object.fromEntries(Object.values(splits).flat().map(({ file, label }) => [file, typeof label === 'number' ? classes[label] : label]));
  for (const split of ['test', 'shifted'].filter((s) => splits[s])) {
    await page.click(`[data-testid="sample-${split}"]`);
    // The previous split's cards stay until this split has downloaded; wait for the new ones.
    await page.waitForFunction(
      (prefix) => {
        const cards = [...document.querySelectorAll('[data-testid="result"]')];
        return cards.length > 0 && cards.every((c) => c.dataset.name.startsWith(prefix));
      },
      `${split}/`,
      { timeout: 120_000 },
    );
    await waitForClassFeatures(page, classes);
    const results = await comparePredictions(page, reference, splits[split], classes, [DEFAULT_TEMPLATE]);
    const { correct, total } = await readAccuracy(page);
    const own = results.filter((r) => r.top1 === labelOf[r.name]).length;
    assert.equal(correct, own, 'the accuracy the app shows counts its own predictions');
    const predicted = {};
    for (const r of results) predicted[r.top1] = (predicted[r.top1] ?? 0) + 1;
    log(`  zero-shot accuracy (${ep}, ${split} split, "${DEFAULT_TEMPLATE}"): ${(100 * correct / total).toFixed(1)}% (${correct}/${total}); predicted ${JSON.stringify(predicted)}`);
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
      await sampleAccuracy(page, reference, root, ep, log);
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
