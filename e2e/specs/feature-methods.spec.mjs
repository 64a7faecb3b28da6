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
});
