import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { waitForModel, waitForStatus } from '../lib/app.mjs';
import { openPage } from '../lib/browser.mjs';
import { BASE_URL } from '../lib/server.mjs';

/** The WCAG 2.1 A and AA rules: what "accessible" means here. */
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const IMPACTS = ['minor', 'moderate', 'serious', 'critical'];

/** Runs axe on the page (or one part of it) and fails on any serious or critical violation; returns the counts per impact. */
async function axe(page, what, include) {
  let builder = new AxeBuilder({ page }).withTags(TAGS);
  if (include) builder = builder.include(include);
  const { violations, passes } = await builder.analyze();
  const counts = Object.fromEntries(IMPACTS.map((i) => [i, violations.filter((v) => v.impact === i).reduce((n, v) => n + v.nodes.length, 0)]));
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const describe = (v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.length}×, e.g. ${v.nodes[0]?.target.join(' ')})`;
  return { what, counts, passes: passes.length, rules: violations.map(describe), bad: bad.map(describe) };
}

/** The element's box lies inside the viewport (it is on screen without scrolling). */
async function inView(page, selector) {
  const box = await page.locator(selector).first().boundingBox();
  const vp = page.viewportSize();
  return !!box && box.y >= 0 && box.x >= 0 && box.y + Math.min(box.height, 60) <= vp.height && box.x + box.width <= vp.width + 1;
}

/**
 * The Train page as a new user meets it at 1280 × 800: accessible (axe, WCAG 2.1 AA: no serious or critical
 * violation) before, during and after a short run and in the Add-a-model dialog; Train reached and pressed with
 * the keyboard; while it trains, the class cards, Train and Stop and both charts are on screen and the page did not
 * scroll; the picture of the prompts moves with the epochs and shows an image on hover.
 * With E2E_SCREENSHOTS=<folder> it saves the page before, during and after the run there (docs/ holds them) and
 * trains the demo to its end; otherwise it stops after a few epochs, to keep CI short.
 */
export async function trainPage({ context, log }) {
  const shots = process.env.E2E_SCREENSHOTS;
  if (shots) mkdirSync(shots, { recursive: true });
  const snap = async (name) => {
    if (!shots) return;
    // A clean picture: no text left selected by the keyboard walk.
    await page.evaluate(() => {
      window.getSelection()?.removeAllRanges();
      // The keyboard walk scrolled the class list to its end; the picture shows it from the top.
      for (const p of document.querySelectorAll('.train-top > .panel')) p.scrollTop = 0;
    });
    await page.screenshot({ path: join(shots, name) });
  };
  const page = await openPage(context, `${BASE_URL}?e2e=1&ep=wasm&engine=cpu#train`);
  const results = [];
  try {
    await page.setViewportSize({ width: 1280, height: 800 });
    await waitForModel(page);
    await page.waitForSelector('[data-testid="empty-hint"]');
    results.push(await axe(page, 'before (empty page)'));
    await snap('train-before.png');

    await page.click('[data-testid="load-demo"]');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="class-card"]').length === 8 && !document.querySelector('[data-testid="load-demo"]')?.disabled);
    // Each card shows a strip, not its 16 training images; "Show all" opens them, test images have their own toggle.
    const card = page.locator('[data-testid="class-card"]').first();
    assert.ok((await card.locator('[data-testid="thumb"]:visible').count()) < 16, 'a card shows a strip of thumbnails');
    await card.locator('[data-testid="thumbs-all"]').click();
    assert.equal(await card.locator('.thumbs.all [data-testid="thumb"]:visible').count(), 16, '"Show all" shows every training image');
    await card.locator('[data-testid="thumbs-all"]').click();
    assert.equal(await card.locator('[data-testid="test-toggle"]').getAttribute('aria-expanded'), 'false');
    await page.click('[data-testid="settings-more"]');
    await page.selectOption('[data-testid="setting-epochs-mode"]', 'fixed');
    await page.fill('[data-testid="setting-epochs"]', shots ? '60' : '40');
    await page.fill('[data-testid="setting-views"]', '1');
    await page.click('[data-testid="settings-more"]');
    results.push(await axe(page, 'demo loaded'));
    await snap('train-loaded.png');

    // Keyboard: Tab from the top of the page reaches Train, which shows its focus and starts the run with Enter.
    await page.evaluate(() => {
      window.scrollTo(0, 0);
      document.activeElement?.blur();
    });
    let tabs = 0;
    for (; tabs < 300; tabs++) {
      await page.keyboard.press('Tab');
      if (await page.evaluate(() => document.activeElement?.dataset?.testid === 'train')) break;
    }
    assert.ok(tabs < 300, 'Train is reachable with Tab');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert.notEqual(outline, 'none', 'the focused Train button shows its focus');
    // The skip button (the first stop on the Train page) goes there directly.
    await page.focus('.skip-link');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement?.dataset?.testid), 'train', '"Skip to Train" focuses Train');
    const scrollBefore = await page.evaluate(() => [window.scrollX, window.scrollY]);
    await page.keyboard.press('Enter');
    log(`  Train reached with ${tabs + 1} Tab presses and pressed with Enter`);

    await page.waitForFunction(() => document.querySelector('[data-testid="run-stats"]')?.dataset.status === 'running' && Number(document.querySelector('[data-testid="run-stats"]').dataset.epochs) >= 2, null, { timeout: 600_000, polling: 250 });
    // Train scrolled nothing, and the three columns are on screen while it trains.
    assert.deepEqual(await page.evaluate(() => [window.scrollX, window.scrollY]), scrollBefore, 'pressing Train scrolls nothing');
    const cardsInView = await page.$$eval('[data-testid="class-card"]', (cards) => cards.filter((c) => {
      const r = c.getBoundingClientRect();
      const panel = c.closest('.panel').getBoundingClientRect();
      return r.top >= Math.max(0, panel.top) && r.bottom <= Math.min(window.innerHeight, panel.bottom) && r.right <= window.innerWidth;
    }).length);
    assert.ok(cardsInView >= 4, `class cards on screen while training: ${cardsInView}`);
    for (const sel of ['.train-data', '[data-testid="train"]', '[data-testid="stop"]', '[data-testid="loss-chart"]', '[data-testid="acc-chart"]', '[data-testid="engine-badge"]']) {
      assert.ok(await inView(page, sel), `${sel} is on screen at 1280 × 800 while training`);
    }
    const status = await page.textContent('[data-testid="work-status"]');
    log(`  status line: ${status.replace(/Details.*$/s, '').trim()}`);
    assert.match(status, /Encoding on the CPU, \d+ threads?.*Training on the CPU/);
    assert.doesNotMatch(status.replace(/Details.*$/s, ''), /\bEP\b|twin|probe/, 'no internal names in the status line');
    results.push(await axe(page, 'during the run'));
    await snap('train-during.png');

    // The prompts move: one learned position per epoch; hovering an image shows it.
    const map = page.locator('[data-testid="prompt-map"]');
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="prompt-map"]')?.dataset.epochs) >= 2, null, { timeout: 300_000, polling: 250 });
    assert.equal(await map.getAttribute('data-learned'), 'true');
    await map.locator('circle').first().hover({ force: true });
    await page.waitForSelector('[data-testid="prompt-map-tip"] img');
    await page.locator('[data-testid="prompt-map-class"]').nth(2).click();
    assert.equal(await page.locator('[data-testid="prompt-map-class"]').nth(2).getAttribute('aria-pressed'), 'true');
    log(`  prompt map: ${await page.textContent('[data-testid="prompt-map-summary"]')}`);
    await page.locator('[data-testid="prompt-map-class"]').nth(2).click();

    if (shots) {
      assert.equal(await waitForStatus(page, ['done', 'failed'], 1_800_000), 'done');
    } else {
      // Stop, unless a fast machine has already trained all the epochs.
      await page.click('[data-testid="stop"]', { timeout: 2_000 }).catch(() => {});
      await waitForStatus(page, ['stopped', 'done'], 300_000);
    }
    await page.waitForSelector('[data-testid="comparison"]');
    const epochs = await page.getAttribute('[data-testid="run-stats"]', 'data-epochs');
    log(`  after the run (${epochs} epochs): ${await page.textContent('[data-testid="acc-summary"]')}`);
    // The demo on the bundled model: the PyTorch columns stand beside this browser's numbers.
    assert.ok((await page.textContent('[data-testid="comparison"]')).includes('PyTorch test'), 'the bundled model shows its PyTorch reference');
    await page.evaluate(() => window.scrollTo(0, 0));
    results.push(await axe(page, 'after the run'));
    await snap('train-after.png');
    if (shots) {
      await map.scrollIntoViewIfNeeded();
      await map.locator('circle').nth(40).hover({ force: true });
      await page.locator('.train-map').screenshot({ path: join(shots, 'prompt-map.png') });
      await page.setViewportSize({ width: 1024, height: 768 });
      await page.evaluate(() => window.scrollTo(0, 0));
      await snap('train-after-1024.png');
      await page.setViewportSize({ width: 820, height: 1180 });
      await page.evaluate(() => window.scrollTo(0, 0));
      await snap('train-after-tablet.png');
      await page.setViewportSize({ width: 1280, height: 800 });
    }

    await page.click('[data-testid="add-model-open"]');
    await page.waitForSelector('[data-testid="add-model"]');
    assert.equal(await page.evaluate(() => document.activeElement?.dataset?.testid), 'add-repo', 'the dialog takes the focus');
    results.push(await axe(page, 'Add-a-model dialog', '[data-testid="add-model"]'));
    await page.keyboard.press('Escape');
    await page.waitForSelector('[data-testid="add-model"]', { state: 'detached' });
    assert.equal(await page.evaluate(() => document.activeElement?.dataset?.testid), 'add-model-open', 'Escape closes it and gives the focus back');

    for (const r of results) log(`  axe ${r.what}: ${IMPACTS.map((i) => `${i} ${r.counts[i]}`).join(', ')} (${r.passes} rules passed)${r.rules.length ? `\n    ${r.rules.join('\n    ')}` : ''}`);
    const bad = results.flatMap((r) => r.bad.map((b) => `${r.what}: ${b}`));
    assert.deepEqual(bad, [], 'no serious or critical accessibility violations');
  } finally {
    await page.close();
  }
}
