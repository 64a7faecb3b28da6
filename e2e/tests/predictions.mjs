import assert from 'node:assert/strict';
import { clearImages, setClasses, waitForClassFeatures, waitForModel } from '../lib/app.mjs';
import { comparePredictions } from '../lib/compare.mjs';
import { sampleAccuracy } from './sample-accuracy.mjs';
import { BASE_URL } from '../lib/server.mjs';
import { openPage } from '../lib/browser.mjs';
import { drawShapes } from '../lib/shapes.mjs';

const { DEFAULT_TEMPLATE, TEMPLATES } = await import('../../src/app/zero-shot/templates.ts');
const CLASSES = ['circle', 'square', 'triangle', 'star', 'cross', 'ring', 'heart', 'diamond'];
function predictionTest(ep) {
  return async ({ context, reference, root, log }) => {
    // Each EP forced: without ?ep= the app keeps the faster by a probe (on SwiftShader, WASM).
    const query = `?e2e=1&ep=${ep}`;
    const page = await openPage(context, `${BASE_URL}${query}#zero-shot`);
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
      await sampleAccuracy(page, { reference, root, ep, log });
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
