import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readAccuracy, setClasses, waitForClassFeatures, waitForResults } from '../lib/app.mjs';
import { comparePredictions } from '../lib/compare.mjs';

const { DEFAULT_TEMPLATE, TEMPLATES } = await import('../../src/app/zero-shot/templates.ts');

// Browsers and PIL decode JPEG with different IDCTs, so a pixel value may differ by one level.
const BASELINE_TOLERANCE = 1.0;

const pct = (correct, total) => (100 * correct) / total;

async function loadSplit(page, split, classes) {
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
}

async function useTemplates(page, classes, ensemble) {
  const option = ensemble ? { label: `Ensemble of all ${TEMPLATES.length} templates` } : DEFAULT_TEMPLATE;
  await page.selectOption('[data-testid="template"]', option);
  await waitForClassFeatures(page, classes, ensemble ? TEMPLATES.length : 1);
}

function checkBaseline(log, what, measured, baseline) {
  if (baseline === undefined) return log(`  ${what}: ${measured.toFixed(1)}%`);
  log(`  ${what}: ${measured.toFixed(1)}% (PyTorch baseline ${baseline}%)`);
  assert.ok(Math.abs(measured - baseline) <= BASELINE_TOLERANCE, `${what}: ${measured.toFixed(1)}% vs PyTorch ${baseline}%`);
}

/**
 * Zero-shot accuracy the app shows on the demo set's test and shifted splits: one template, the
 * ensemble, and the class words the model's captions used. Predictions with one template are
 * checked image by image against onnxruntime-node; accuracies against public/samples/baselines.json.
 */
export async function sampleAccuracy(page, { reference, root, ep, log }) {
  const index = join(root, 'public/samples/index.json');
  if (!existsSync(index)) return log(`  (${ep}) no public/samples/index.json: sample accuracy not measured`);
  const { splits, classes } = JSON.parse(readFileSync(index, 'utf8'));
  const baselinesFile = join(root, 'public/samples/baselines.json');
  const baselines = existsSync(baselinesFile) ? JSON.parse(readFileSync(baselinesFile, 'utf8')) : null;
  const labelOf = Object.fromEntries(Object.values(splits).flat().map(({ file, label }) => [file, typeof label === 'number' ? label : classes.indexOf(label)]));

  // ORT's WebGPU EP encodes under one image per second on SwiftShader: the 200-image test split alone took 4 of CI's
  // 28 minutes. Its predictions are still checked image by image against onnxruntime-node on the drawn shapes; the
  // demo's splits go through the WASM EP, and through the WebGPU EP with E2E_WEBGPU_ALL_SPLITS=1 (a real GPU).
  const wanted = ep === 'webgpu' && process.env.E2E_WEBGPU_ALL_SPLITS !== '1' ? [] : ['test', 'shifted'];
  if (!wanted.length) return log(`  (${ep}) demo splits: WASM EP only on a software adapter (E2E_WEBGPU_ALL_SPLITS=1 adds them here)`);
  for (const split of wanted.filter((s) => splits[s])) {
    const expected = baselines?.results?.[split] ?? {};
    await loadSplit(page, split, classes);
    const results = await comparePredictions(page, reference, splits[split], classes, [DEFAULT_TEMPLATE]);
    const single = await readAccuracy(page);
    const own = results.filter((r) => classes.indexOf(r.top1) === labelOf[r.name]).length;
    assert.equal(single.correct, own, 'the accuracy the app shows counts its own predictions');
    checkBaseline(log, `zero-shot (${ep}, ${split}, "${DEFAULT_TEMPLATE}", ${single.correct}/${single.total})`, pct(single.correct, single.total), expected.zero_shot);

    await useTemplates(page, classes, true);
    const ensemble = await readAccuracy(page);
    checkBaseline(log, `zero-shot (${ep}, ${split}, ensemble of ${TEMPLATES.length})`, pct(ensemble.correct, ensemble.total), expected.ensemble);
    await useTemplates(page, classes, false);

    // The model's own caption words for the same classes: accuracy by class index, since names differ from labels.
    const words = baselines?.true_shapes;
    if (words) {
      await setClasses(page, words);
      await waitForClassFeatures(page, words);
      const cards = await waitForResults(page, splits[split].length);
      const correct = cards.filter((r) => words.indexOf(r.top1) === labelOf[r.name]).length;
      checkBaseline(log, `zero-shot (${ep}, ${split}, caption words)`, pct(correct, cards.length), expected.zero_shot_with_caption_words);
    }
  }
}
