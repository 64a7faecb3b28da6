import { readFileSync } from 'node:fs';
import { expect } from '@playwright/test';
import { AxeBuilder } from '@axe-core/playwright';
import { test } from '../lib/fixtures.mjs';
import { waitForModel, waitForStatus } from '../lib/app.mjs';

// The successors in the app: picking CoCoOp writes its official recipe into the settings (lowered here to one epoch
// so the test is quick), it trains and gets its accuracy; deep prompts train and show the nearest words of every
// block's tokens; the deep prompt exports as a version-2 file and imports back, "made by Deep prompts", with the same
// accuracies through the method (the context alone would not give them).
test('successors: CoCoOp and deep prompts train from the picker, nearest words per block, export and re-import', async ({ page, baseUrl, log }) => {
  test.setTimeout(10 * 60_000);
  await page.goto(`${baseUrl}?e2e=1&ep=wasm&engine=cpu#train`);
  await waitForModel(page);
  await page.click('[data-testid="load-demo"]');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="class-card"]').length >= 2 && !document.querySelector('[data-testid="load-demo"]').disabled, null, { timeout: 120_000 });
  const panel = page.locator('[data-testid="methods-panel"]');
  const shortRun = async () => {
    // The recipe set fixed epochs; one epoch and two views keep the run short.
    await expect(page.locator('[data-testid="setting-epochs-mode"]')).toHaveValue('fixed');
    await page.fill('[data-testid="setting-epochs"]', '1');
    await page.fill('[data-testid="setting-views"]', '2');
  };

  // CoCoOp: its recipe, visibly, then one epoch.
  await panel.locator('input[name="method"][value="cocoop"]').check();
  const recipe = panel.locator('[data-testid="method-recipe"]');
  await expect(recipe).toContainText("CoCoOp's official settings: 4 context words 'a photo of a', batch 1, 10 epochs, lr 0.002");
  await expect(panel.locator('[data-testid="method-hint"]')).toContainText('Meta-Net');
  await page.click('[data-testid="settings-more"]');
  await expect(page.locator('[data-testid="setting-batchSize"]')).toHaveValue('1');
  await expect(page.locator('[data-testid="setting-epochs"]')).toHaveValue('10');
  log(`recipe: ${await recipe.textContent()}`);
  await panel.screenshot({ path: test.info().outputPath('picker-cocoop.png') });
  await shortRun();
  let t0 = Date.now();
  await page.click('[data-testid="train"]');
  expect(await waitForStatus(page, ['done', 'failed'], 6 * 60_000)).toBe('done');
  const cocoop = page.locator('[data-testid="method-row-cocoop"]');
  await expect(cocoop).toBeVisible();
  const cocoopTest = await cocoop.locator('td[data-col="test"]').textContent();
  expect(cocoopTest).toMatch(/^\d+(\.\d)?%$/);
  await expect(page.locator('[data-testid="row-cocoop"] th')).toContainText('CoCoOp');
  log(`CoCoOp, 1 epoch at batch 1: test ${cocoopTest} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);

  // Deep prompts: nearest words of the input context and of each block's tokens.
  await panel.locator('input[name="method"][value="deep"]').check();
  await expect(panel.locator('[data-testid="method-recipe"]')).toContainText("Deep prompts' official settings: 4 context words 'a photo of a', batch 4, 5 epochs, lr 0.0025");
  await shortRun();
  t0 = Date.now();
  await page.click('[data-testid="train"]');
  expect(await waitForStatus(page, ['done', 'failed'], 6 * 60_000)).toBe('done');
  const deepRow = page.locator('[data-testid="row-deep"]');
  await expect(deepRow).toBeVisible();
  const trained = Object.fromEntries(await deepRow.locator('td[data-split]').evaluateAll((tds) => tds.map((td) => [td.dataset.split, td.dataset.value])));
  log(`deep prompts, 1 epoch: ${JSON.stringify(trained)} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  expect(Number(trained.test)).toBeGreaterThan(0);
  await expect(page.locator('[data-testid="method-row-deep"]')).toBeVisible();
  await expect(page.locator('[data-testid="method-row-cocoop"]')).toBeVisible();

  const blockPicker = page.locator('[data-testid="nearest-block"]');
  await expect(blockPicker).toBeVisible({ timeout: 60_000 });
  const blocks = await blockPicker.locator('option').evaluateAll((os) => os.map((o) => o.value));
  expect(blocks).toEqual(['0', '1', '2', '3']); // the toy tower's 4 blocks: the input context and blocks 1–3
  const table = page.locator('[data-testid="nearest-table"]');
  const readRows = async () => (await table.locator('tbody tr').allTextContents()).map((t) => t.replace(/\s+/g, ' ').trim());
  const input = await readRows();
  expect(input).toHaveLength(4);
  const perBlock = { 0: input };
  for (const b of ['1', '2', '3']) {
    await blockPicker.selectOption(b);
    await expect(table).toHaveAttribute('data-block', b);
    perBlock[b] = await readRows();
    expect(perBlock[b]).toHaveLength(4);
    expect(perBlock[b][0]).toMatch(new RegExp(`^block ${b} \\[V\\]1\\D`));
  }
  expect(perBlock[1]).not.toEqual(perBlock[2]);
  await page.locator('[data-testid="nearest-tokens"]').screenshot({ path: test.info().outputPath('nearest-block-3.png') });
  log(`nearest words, first vector per block: ${Object.entries(perBlock).map(([b, r]) => `${b}: ${r[0]}`).join(' | ')}`);

  // The picker with a recipe and the per-block nearest words pass axe (WCAG 2.1 AA: no serious or critical violation).
  const { violations } = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).include('[data-testid="methods-panel"]').include('[data-testid="nearest-tokens"]').analyze();
  log(`axe (method panel, nearest words): ${violations.map((v) => `${v.impact} ${v.id}`).join(', ') || 'no violations'}`);
  expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);

  // Export: a version-2 file with the method and its per-block tokens.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="export"]')]);
  const exported = test.info().outputPath(download.suggestedFilename());
  await download.saveAs(exported);
  const json = JSON.parse(readFileSync(exported, 'utf8'));
  expect(json.version).toBe(2);
  expect(json.method.name).toBe('deep');
  expect(json.extras.map((x) => x.name)).toEqual(['deep_ctx.1', 'deep_ctx.2', 'deep_ctx.3']);
  log(`exported ${download.suggestedFilename()}: version ${json.version}, method ${json.method.name}, extras ${json.extras.map((x) => `${x.name} [${x.shape}]`).join(', ')}`);
  await expect(page.locator('[data-testid="import-error"]')).toHaveCount(0);

  // TCP base-to-new: two classes marked "new" are left out of training; its recipe (Adam) for one epoch, and the
  // table gets base, new and H, the new classes through TCP's class-aware tokens from their hand-written prompts.
  const newBoxes = page.locator('[data-testid="class-new"]');
  const nCards = await newBoxes.count();
  for (const i of [nCards - 2, nCards - 1]) await newBoxes.nth(i).check();
  await panel.locator('input[name="method"][value="tcp"]').check();
  await expect(panel.locator('[data-testid="method-recipe"]')).toContainText("TCP's official settings: 4 random context vectors, batch 32");
  await expect(page.locator('[data-testid="setting-optimizer"]')).toHaveValue('adam');
  await shortRun();
  t0 = Date.now();
  await page.click('[data-testid="train"]');
  expect(await waitForStatus(page, ['done', 'failed'], 6 * 60_000)).toBe('done');
  const tcp = page.locator('[data-testid="method-row-tcp"]');
  await expect(tcp).toBeVisible();
  const tcpCells = Object.fromEntries(await tcp.locator('td[data-col]').evaluateAll((tds) => tds.map((td) => [td.dataset.col, td.textContent])));
  log(`TCP base-to-new, 1 epoch: ${JSON.stringify(tcpCells)} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  for (const col of ['test/base', 'test/new', 'test/H']) expect(tcpCells[col]).toMatch(/^\d+(\.\d)?%$/);
  for (const i of [nCards - 2, nCards - 1]) await newBoxes.nth(i).uncheck();
  // Class-specific context with a successor: a clear message, and Train does not start.
  await page.check('[data-testid="setting-csc"]');
  await expect(panel.locator('[data-testid="method-csc"]')).toContainText('TCP learns one context shared by every class: turn class-specific context (CSC) off');
  await page.uncheck('[data-testid="setting-csc"]');
  await expect(panel.locator('[data-testid="method-csc"]')).toHaveCount(0);

  // Re-import: made by deep prompts, and the same accuracies through the method on the same images.
  await panel.locator('input[name="method"][value="coop"]').check();
  await page.setInputFiles('[data-testid="import-input"]', exported);
  const note = page.locator('[data-testid="imported"]');
  await expect(note).toContainText('made by Deep prompts', { timeout: 120_000 });
  await expect(note).toHaveAttribute('data-method', 'deep');
  await expect(panel.locator('input[name="method"][value="deep"]')).toBeChecked();
  await waitForStatus(page, ['done'], 120_000);
  await expect(deepRow).toBeVisible();
  await page.waitForFunction(() => document.querySelector('[data-testid="row-deep"] td[data-split="test"]')?.dataset.value, null, { timeout: 60_000 });
  const reimported = Object.fromEntries(await deepRow.locator('td[data-split]').evaluateAll((tds) => tds.map((td) => [td.dataset.split, td.dataset.value])));
  log(`imported back: ${await note.textContent()} → ${JSON.stringify(reimported)}`);
  for (const split of ['test', 'shifted']) expect(reimported[split]).toBe(trained[split]);
  await expect(page.locator('[data-testid="import-error"]')).toHaveCount(0);
});
