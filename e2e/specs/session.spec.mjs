/**
 * Nothing lost (issue 13): Train pressed at once after Load demo trains; runs overlay; a project saved and opened in a
 * fresh profile predicts the same; damaged projects are refused with their message; a reload mid-run then Resume
 * ends with the uninterrupted run's context; a quota error keeps earlier saves; a link reproduces the settings.
 * Settings come from the link (#train&epochs=…): few epochs, one view, the CPU engine.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strToU8, unzipSync, zipSync } from 'fflate';
import { waitForModel } from '../lib/app.mjs';
import { test } from '../lib/fixtures.mjs';
import { maxAbsDiff, openTrain, predict, QUICK, settledRuns, storedRuns, waitForRun } from '../lib/session.mjs';

test('Train pressed at once after Load demo trains; two runs overlay; a saved project opens in a fresh profile with the same predictions; damaged projects are refused', async ({ page, browser, baseUrl, log }) => {
  test.setTimeout(30 * 60_000);
  const tmp = mkdtempSync(join(tmpdir(), 'coop-session-e2e-'));
  try {
    await openTrain(page, `${baseUrl}${QUICK}#train&epochs=2&views=1`);
    await page.waitForSelector('[data-testid="empty-hint"]');
    // Both clicks at once, as a new user would: Train waits for the demo, then trains on it.
    await page.click('[data-testid="load-demo"]');
    await page.click('[data-testid="train"]');
    await page.waitForSelector('[data-testid="train-waiting"]', { timeout: 5_000 }).catch(() => {});
    const t0 = Date.now();
    assert.equal(await waitForRun(page), 'done', 'the run started by the early Train finished');
    const cards = await page.$$eval('[data-testid="class-card"]', (c) => c.length);
    assert.ok(cards >= 2, 'the demo is in');
    log(`  Train at once after Load demo: trained ${cards} classes in ${((Date.now() - t0) / 1000).toFixed(0)} s`);

    // A second run with class-specific context: two clicks, and both curves are on the chart.
    await page.check('[data-testid="setting-csc"]');
    await page.click('[data-testid="train"]');
    assert.equal(await waitForRun(page), 'done');
    assert.equal(await page.$$eval('[data-testid="run"]', (r) => r.length), 2, 'two runs listed');
    assert.equal(await page.getAttribute('[data-testid="loss-chart"]', 'data-overlays'), '1', 'the first run is drawn over the second');
    // The shown run's line (blue) and the other run's, dashed in its own colour, in both charts.
    const strokes = (chart) => page.$$eval(`[data-testid="${chart}"] path.recharts-line-curve`, (ps) => ps.map((p) => `${p.getAttribute('stroke')} ${p.getAttribute('stroke-dasharray') ?? ''}`.trim()));
    const loss = await strokes('loss-chart');
    assert.ok(loss.includes('#2563eb') && loss.includes('#9333ea 5 3'), `both runs' loss lines (${loss.join(', ')})`);
    const acc = await strokes('acc-chart');
    assert.ok(acc.includes('#9333ea 5 3'), `the other run's accuracy line (${acc.join(', ')})`);

    // A third run (M = 4), then the time a reload takes to bring the whole session back: cards, 128 + 400 + 200
    // images, three runs with their curves and results.
    await page.fill('[data-testid="setting-nCtx"]', '4');
    await page.click('[data-testid="train"]');
    assert.equal(await waitForRun(page), 'done');
    assert.equal(await page.$$eval('[data-testid="run"]', (r) => r.length), 3, 'three runs listed');
    await page.waitForFunction(() => !document.querySelector('[data-testid="storage"]')?.textContent.includes('Saving'));
    const tReload = Date.now();
    await page.reload();
    await page.waitForSelector('[data-testid="session"][data-restored="true"]', { timeout: 120_000 });
    const wall = Date.now() - tReload;
    const restoreMs = await page.getAttribute('[data-testid="session"]', 'data-restore-ms');
    const points = await page.getAttribute('[data-testid="loss-chart"]', 'data-points');
    assert.equal(await page.$$eval('[data-testid="run"]', (r) => r.length), 3, 'three runs restored');
    assert.ok(Number(points) > 0, 'the loss chart is drawn again');
    log(`  restore after a reload (demo, 3 runs): ${restoreMs} ms reading IndexedDB into the page; ${wall} ms from reload to restored`);
    await waitForModel(page);

    // Save the project; open it in a fresh profile (a new browser context: its own, empty IndexedDB).
    const index = await (await fetch(`${baseUrl}samples/index.json`)).json();
    const probe = { name: 'probe.jpg', mimeType: 'image/jpeg', buffer: Buffer.from(await (await fetch(`${baseUrl}samples/${index.splits.test[0].file}`)).arrayBuffer()) };
    const before = await predict(page, probe);
    const accBefore = await page.$$eval('[data-testid="run"] td[data-split]', (tds) => tds.map((t) => t.dataset.value));
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="save-project"]')]);
    const file = join(tmp, download.suggestedFilename());
    await download.saveAs(file);
    const bytes = readFileSync(file);
    log(`  project file: ${download.suggestedFilename()}, ${(bytes.length / 1024).toFixed(0)} KB`);

    const fresh = await browser.newContext();
    try {
      const other = await fresh.newPage();
      await openTrain(other, `${baseUrl}${QUICK}`);
      assert.equal(await other.$$eval('[data-testid="run"]', (r) => r.length), 0, 'the fresh profile starts empty');
      await other.setInputFiles('[data-testid="open-project-input"]', file);
      await other.waitForSelector('[data-testid="project-message"]', { timeout: 120_000 });
      assert.equal(await other.$$eval('[data-testid="run"]', (r) => r.length), 3, 'the three runs came with the project');
      assert.deepEqual(await other.$$eval('[data-testid="run"] td[data-split]', (tds) => tds.map((t) => t.dataset.value)), accBefore, 'same accuracies per run and split');
      assert.equal(await predict(other, probe), before, 'the same class probabilities for the same image');
      log(`  opened in a fresh profile: same accuracies, same probabilities (${before})`);

      // Damaged and foreign projects are refused, each with its own message.
      const files = unzipSync(bytes);
      const json = JSON.parse(Buffer.from(files['project.json']).toString());
      const cases = [
        ['cut-short.zip', bytes.subarray(0, Math.floor(bytes.length / 2)), /not a readable zip file/],
        ['newer.zip', zipSync({ ...files, 'project.json': strToU8(JSON.stringify({ ...json, version: 2 })) }), /version 2 project; this app reads version 1: it was saved by a newer version/],
        ['other-format.zip', zipSync({ ...files, 'project.json': strToU8(JSON.stringify({ ...json, format: 'something-else' })) }), /"something-else" file, not a CoOp Playground project/],
        ['no-project.zip', zipSync({ 'readme.txt': strToU8('hello') }), /without project\.json/],
        ['missing-model.zip', zipSync({ ...files, 'project.json': strToU8(JSON.stringify({ ...json, model: { ...json.model, id: 'vit-b-16', folder: 'clip-vit-b-16' } })) }), /model "vit-b-16" \(folder "clip-vit-b-16"\), which is not available here\. Add that model/],
      ];
      for (const [name, data, expected] of cases) {
        writeFileSync(join(tmp, name), data);
        await other.setInputFiles('[data-testid="open-project-input"]', join(tmp, name));
        await other.waitForFunction((n) => document.querySelector('[data-testid="project-error"]')?.textContent.includes(n), name, { timeout: 30_000 });
        const message = await other.textContent('[data-testid="project-error"]');
        log(`  ${name}: ${message}`);
        assert.match(message, expected);
      }
      assert.equal(await other.$$eval('[data-testid="run"]', (r) => r.length), 3, 'a refused project leaves the session as it was');
    } finally {
      await fresh.close();
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('a reload mid-run, then Resume, ends with exactly the uninterrupted run\'s context; a quota error keeps earlier saves', async ({ page, baseUrl, log }) => {
  test.setTimeout(30 * 60_000);
  // Ten epochs, reloaded once the epoch-2 checkpoint is on disk: the eight left take far longer than the reload, so
  // the run cannot finish (and be saved as done) first, even on a fast machine (with 4 epochs, the CI machine
  // finished the run before the reload landed, and nothing was left to resume).
  const EPOCHS = 10;
  const url = `${baseUrl}${QUICK}#train&epochs=${EPOCHS}&views=1&seed=5`;
  await openTrain(page, url);
  await page.click('[data-testid="load-demo"]');
  await page.click('[data-testid="train"]');
  // Reload once a checkpoint after epoch 2 is on disk, while the run goes on.
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="session"]')?.dataset.savedCheckpoint.split(':')[1]) >= 2, null, { timeout: 900_000, polling: 100 });
  const t0 = Date.now();
  await page.reload();
  await openTrain(page, url);
  log(`  restored after the reload in ${Date.now() - t0} ms (page load, model and session)`);
  const [interrupted] = await storedRuns(page);
  const stored = `stored run: status ${interrupted.status}, checkpoint at epoch ${interrupted.checkpointEpoch}, ${interrupted.epochs} epochs`;
  log(`  ${stored}`);
  assert.ok(interrupted.checkpointEpoch >= 2 && interrupted.checkpointEpoch < EPOCHS, stored);
  assert.equal(await page.textContent('[data-testid="train"]'), 'Resume', `the interrupted run offers Resume (${stored})`);
  await page.click('[data-testid="train"]');
  assert.equal(await waitForRun(page), 'done');
  // The same settings from the start, uninterrupted: a second run.
  await page.click('[data-testid="train"]');
  assert.equal(await waitForRun(page), 'done');
  // Both runs trained on the WASM CPU engine with its worker threads where the browser has cores for them: the
  // identical context below is also the threads' bit-for-bit check in a browser (each output is one thread's tile).
  const [cores, engineTitle] = await page.evaluate(() => [navigator.hardwareConcurrency, document.querySelector('[data-testid="engine-badge"]')?.getAttribute('title') ?? '']);
  log(`  text engine (${cores} cores): ${engineTitle}`);
  if (cores > 1) assert.match(engineTitle, /CPU \(WebAssembly SIMD( with FMA)?, \d threads\)/, 'the WASM CPU engine runs on worker threads');
  const [resumed, whole] = await settledRuns(page, 2);
  assert.equal(resumed.status, 'done');
  assert.deepEqual(resumed.settings, whole.settings);
  assert.equal(resumed.steps, whole.steps, 'the resumed run drew every step once');
  const diff = maxAbsDiff(resumed.context, whole.context);
  log(`  resumed from the epoch ${interrupted.checkpointEpoch} checkpoint: context max |resumed − uninterrupted| = ${diff}`);
  assert.equal(diff, 0, 'the resumed run ends with exactly the uninterrupted context');

  // The browser refuses a save (quota): the page says so, and everything saved before survives a reload.
  const names = page.locator('[data-testid="class-card"] input[aria-label="Class name"]');
  const before = await names.nth(0).inputValue();
  await page.evaluate(() => {
    const put = IDBObjectStore.prototype.put;
    window.__restorePut = () => (IDBObjectStore.prototype.put = put);
    IDBObjectStore.prototype.put = function () {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    };
  });
  await names.nth(0).fill(`${before} renamed`);
  const message = await page.textContent('[data-testid="save-error"]', { timeout: 30_000 });
  log(`  quota: ${message}`);
  assert.match(message, /storage for this site is full.*Everything saved before is kept\./);
  await page.reload();
  await openTrain(page, url);
  assert.equal(await names.nth(0).inputValue(), before, 'the last good save is what a reload restores');
  assert.equal(await page.$$eval('[data-testid="run"]', (r) => r.length), 2, 'the runs saved before are intact');
});

test('a link reproduces the settings (never the images)', async ({ page, browser, baseUrl }) => {
  const link = `${baseUrl}${QUICK}#train&m=4&csc=1&pos=front&init=random&lr=0.01&epochs=3&bs=8&views=2&seed=7`;
  await openTrain(page, link);
  const read = (p) =>
    p.evaluate(() => {
      const v = (id) => document.querySelector(`[data-testid="${id}"]`);
      return { m: v('setting-nCtx')?.value, csc: v('setting-csc')?.checked, lr: v('setting-lr')?.value, epochs: v('setting-epochs')?.value, views: v('setting-views')?.value, seed: v('setting-seed')?.value, hash: location.hash };
    });
  const opened = await read(page);
  assert.deepEqual({ ...opened, hash: undefined }, { m: '4', csc: true, lr: '0.01', epochs: '3', views: '2', seed: '7', hash: undefined });
  // A change goes into the link; the link opens with it in a fresh profile.
  if (!(await page.isVisible('[data-testid="setting-seed"]'))) await page.click('[data-testid="settings-more"]');
  await page.fill('[data-testid="setting-seed"]', '11');
  await page.waitForFunction(() => location.hash.includes('seed=11'));
  const copied = page.url();
  assert.ok(!/blob:|data:|\.png|\.jpg/.test(copied), 'no images in the link');
  const fresh = await browser.newContext();
  try {
    const other = await fresh.newPage();
    await openTrain(other, copied);
    const got = await read(other);
    assert.equal(got.seed, '11');
    assert.equal(got.m, '4');
    assert.equal(got.csc, true);
  } finally {
    await fresh.close();
  }
});
