import { readFileSync, writeFileSync } from 'node:fs';
import { expect } from '@playwright/test';
import { test } from '../lib/fixtures.mjs';
import { waitForModel, waitForStatus } from '../lib/app.mjs';

// The four feature-only baselines in the app: after one short CoOp run (which encodes the images and views), each
// is fitted in its own worker from the Method panel and gets a row with its accuracy and time.
test('Method panel: CLAP, LP++, TaskRes and CLIP-Adapter fit on the cached features and join the table', async ({ page, baseUrl, log }) => {
  test.setTimeout(15 * 60_000);
  await page.goto(`${baseUrl}?e2e=1&ep=wasm&engine=cpu#train`);
  await waitForModel(page);
  await page.click('[data-testid="load-demo"]');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="class-card"]').length >= 2 && !document.querySelector('[data-testid="load-demo"]').disabled, null, { timeout: 120_000 });
  await page.click('[data-testid="settings-more"]');
  await page.selectOption('[data-testid="setting-epochs-mode"]', 'fixed');
  await page.fill('[data-testid="setting-epochs"]', '1');
  await page.fill('[data-testid="setting-views"]', '2');
  await page.click('[data-testid="train"]');
  await waitForStatus(page, ['done'], 10 * 60_000);
  for (const [m, label] of [['clap', 'CLAP'], ['lpp', 'LP++'], ['taskres', 'TaskRes'], ['clip-adapter', 'CLIP-Adapter']]) {
    await page.check(`[data-testid="methods-panel"] input[name="method"][value="${m}"]`);
    await expect(page.locator('[data-testid="fit-adapter"]')).toHaveText(`Fit ${label}`);
    await page.click('[data-testid="fit-adapter"]');
    const row = page.locator(`[data-testid="method-row-${m}"]`);
    await expect(row).toBeVisible({ timeout: 120_000 });
    const test = await row.locator('td[data-col="test"]').textContent();
    const cells = await row.locator('td').allTextContents();
    log(`${label}: test ${test}; ${cells.slice(-2).join('; ')}`);
    expect(test).toMatch(/^\d+(\.\d)?%$/);
    expect(cells.at(-2)).toMatch(/^\d+\.\d s$/);
  }
  await expect(page.locator('[data-testid="methods-panel"] .error')).toHaveCount(0);

  // CLAP's classifier as a coop-adapter file, imported back: the same accuracies on the same images, and the page
  // says which method made it. A file for another image tower is refused and the imported one stays.
  await page.check('[data-testid="methods-panel"] input[name="method"][value="clap"]');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="export-adapter"]')]);
  const exported = test.info().outputPath(download.suggestedFilename());
  await download.saveAs(exported);
  const json = JSON.parse(readFileSync(exported, 'utf8'));
  expect(json).toMatchObject({ format: 'coop-adapter', method: 'clap', method_name: 'CLAP', model: { id: 'toy-clip' } });
  expect(json.model.image_model_sha256).toMatch(/^[0-9a-f]{64}$/);
  log(`exported ${download.suggestedFilename()}: ${json.class_names.length} classes, image tower ${json.model.image_model_sha256.slice(0, 12)}…`);
  const fitted = page.locator('[data-testid="method-row-clap"]');
  const want = { train: await fitted.locator('td[data-col="train"]').textContent(), test: await fitted.locator('td[data-col="test"]').textContent() };

  await page.setInputFiles('[data-testid="import-input"]', exported);
  const note = page.locator('[data-testid="imported-adapter"]');
  await expect(note).toContainText('made by CLAP', { timeout: 120_000 });
  const accuracies = JSON.parse(await note.getAttribute('data-accuracies'));
  const got = Object.fromEntries(Object.entries(accuracies).map(([k, v]) => [k, `${(100 * v).toFixed(1)}%`]));
  log(`imported back: ${await note.textContent()} (the fit's row: train ${want.train}, test ${want.test})`);
  expect(got).toEqual(want);
  const predictions = JSON.parse(await note.getAttribute('data-predictions'));
  expect(predictions.length).toBeGreaterThan(0);
  expect(predictions.every(([, p]) => json.class_names.includes(p))).toBe(true);
  await expect(page.locator('[data-testid="import-error"]')).toHaveCount(0);
  // The Predict panel uses it too: on a test image, its top class is the one the import scored for that image.
  const index = await (await fetch(`${baseUrl}samples/index.json`)).json();
  const probe = index.splits.test[0].file;
  const bytes = Buffer.from(await (await fetch(`${baseUrl}samples/${probe}`)).arrayBuffer());
  await page.setInputFiles('[data-testid="predict-input"]', { name: 'probe.jpg', mimeType: 'image/jpeg', buffer: bytes });
  const bars = page.locator('[data-testid="predict-adapter"]');
  await expect(bars).toBeVisible({ timeout: 60_000 });
  const scored = predictions.find(([name]) => name === probe);
  expect(scored, `${probe} among the scored images`).toBeTruthy();
  expect(await bars.getAttribute('data-top1')).toBe(scored[1]);
  log(`Predict with the imported CLAP file: ${probe} → ${scored[1]}`);

  const other = test.info().outputPath('clap-other-model.json');
  writeFileSync(other, JSON.stringify({ ...json, model: { ...json.model, image_model_sha256: '0'.repeat(64) } }));
  await page.setInputFiles('[data-testid="import-input"]', other);
  const refused = page.locator('[data-testid="import-error"]');
  await expect(refused).toContainText("this CLAP file was made with model 'toy-clip' (image tower 00000000…)", { timeout: 30_000 });
  log(`another model's file refused: ${await refused.textContent()}`);
  expect(JSON.parse(await note.getAttribute('data-accuracies'))).toEqual(accuracies);
});
