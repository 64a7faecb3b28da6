/**
 * Hostile files (issue 22): after Load demo, a zip bomb project, a project whose image header claims 60,000 × 60,000
 * pixels, a 500 MB prompt file and one declaring n_ctx = 10^9 are each refused with what was too large and the limit,
 * and the stored session is the demo's before and after a reload; a valid project over that unsaved work asks first
 * (Cancel keeps the session, OK replaces it in one transaction). Each refusal's time and the page's memory at its peak
 * are logged and written to e2e/out/hostile-files.md (the table in docs/hostile-files.md).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitForResults } from '../lib/app.mjs';
import { ROOT, test } from '../lib/fixtures.mjs';
import { hugeArrayPrompt, hugePng, hugePngProject, manyContextPrompt, validProject, zipBomb } from '../lib/hostile-files.mjs';
import { startMeter } from '../lib/memory-meter.mjs';
import { openTrain, QUICK } from '../lib/session.mjs';

/** What IndexedDB holds: the workspace's classes with their image counts, the stored images and runs. */
function storedSession(page) {
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open('coop-playground');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const tx = open.result.transaction(['meta', 'images', 'runs']);
          const out = {};
          tx.objectStore('meta').get('workspace').onsuccess = (e) => (out.classes = (e.target.result?.classes ?? []).map((c) => `${c.name}:${c.images.length}`));
          tx.objectStore('images').count().onsuccess = (e) => (out.images = e.target.result);
          tx.objectStore('runs').count().onsuccess = (e) => (out.runs = e.target.result);
          tx.oncomplete = () => (open.result.close(), resolve(out));
          tx.onerror = () => reject(tx.error);
        };
      }),
  );
}

/**
 * Puts a file from disk into a file input by its path (CDP DOM.setFileInputFiles): Playwright refuses to send files
 * over 50 MB to a browser it reached over CDP, and the browser here runs on this machine and reads the path itself.
 */
async function setFileByPath(page, selector, path) {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { root } = await cdp.send('DOM.getDocument');
    const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector });
    await cdp.send('DOM.setFileInputFiles', { nodeId, files: [path] });
  } finally {
    await cdp.detach().catch(() => {});
  }
}

const mb = (n) => (n == null ? 'n/a' : `${(n / 2 ** 20).toFixed(0)} MB`);

test('hostile files are refused with their limit, and the session survives them and a reload; a valid project over unsaved work asks first', async ({ page, browser, baseUrl, log }) => {
  test.setTimeout(10 * 60_000);
  const tmp = mkdtempSync(join(tmpdir(), 'coop-hostile-e2e-'));
  const tStart = Date.now();
  const at = (what) => log(`  [${((Date.now() - tStart) / 1000).toFixed(1)} s] ${what}`);
  try {
    const fingerprint = JSON.parse(readFileSync(join(ROOT, 'public/models/toy-clip/manifest.json'), 'utf8')).text_model_sha256;
    const files = { bomb: zipBomb(tmp), header: hugePngProject(tmp), array: hugeArrayPrompt(tmp, fingerprint), ctx: manyContextPrompt(tmp, fingerprint), png: hugePng(tmp), valid: validProject(tmp, ROOT) };
    at('hostile files written');
    const url = `${baseUrl}${QUICK}#train`;
    const t00 = Date.now();
    await openTrain(page, url);
    log(`  page and model ready in ${Date.now() - t00} ms`);
    await page.click('[data-testid="load-demo"]');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="class-card"]').length >= 2 && !document.querySelector('[data-testid="load-demo"]')?.disabled, null, { timeout: 180_000 });
    await page.waitForFunction(() => document.querySelector('[data-testid="session"]')?.dataset.lastSaved && !document.querySelector('[data-testid="storage"]')?.textContent.includes('Saving'), null, { timeout: 60_000 });
    const demo = await storedSession(page);
    log(`  demo loaded and stored after ${Date.now() - t00} ms: ${demo.classes.length} classes, ${demo.images} images`);
    assert.ok(demo.images > 100, `the demo is stored (${JSON.stringify(demo)})`);
    const meter = await startMeter(page, browser);
    const rows = [];

    /** Opens `file` through `input`, waits for `selector` to say `expected`, and measures. */
    const refuse = async (file, input, selector, expected) => {
      const before = await page.evaluate((sel) => document.querySelector(sel)?.textContent ?? null, selector);
      const stop = await meter.start();
      const t0 = Date.now();
      await setFileByPath(page, `[data-testid="${input}"]`, file.path);
      await page.waitForFunction(([sel, prev]) => {
        const t = document.querySelector(sel)?.textContent;
        return t && t !== prev;
      }, [selector, before], { timeout: 60_000, polling: 20 });
      const ms = Date.now() - t0;
      const mem = await stop();
      const message = await page.textContent(selector);
      log(`  ${file.name} (${(file.bytes / 2 ** 20).toFixed(file.bytes < 2 ** 20 ? 3 : 1)} MB): ${ms} ms, JS heap peak ${mb(mem.heapPeak)} (from ${mb(mem.heapBefore)}), renderer RSS ${mb(mem.rssBefore)} → peak ${mb(mem.rssPeak)}: ${message}`);
      assert.match(message, expected);
      assert.deepEqual(await storedSession(page), demo, `the stored session is the demo's after ${file.name}`);
      rows.push({ ...file, message, ms, ...mem });
      at(`${file.name} done`);
    };

    await refuse(files.bomb, 'open-project-input', '[data-testid="project-error"]', /^images\/00001-zeros\.png in bomb\.zip \(inflated\) is 1 GiB, over the limit of 100 MiB; .*Nothing was opened; the current session is kept\.$/);
    await refuse(files.header, 'open-project-input', '[data-testid="project-error"]', /^images\/00001-huge\.png in huge-header\.zip is 60000×60000 pixels by its header \(3600 megapixels\), over the limit of 50 megapixels/);
    await refuse(files.array, 'import-input', '[data-testid="import-error"]', /^huge-array\.json is 500 MiB, over the limit of 128 MiB; no prompt file is that large/);
    await refuse(files.ctx, 'import-input', '[data-testid="import-error"]', /"n_ctx" is 1000000000, over the limit of 74/);

    // A valid project over the demo (not saved as a project file): the app asks; Cancel keeps the demo.
    let asked = null;
    page.once('dialog', (d) => ((asked = d.message()), void d.dismiss()));
    await page.setInputFiles('[data-testid="open-project-input"]', files.valid.path);
    await page.waitForFunction(() => document.querySelector('[data-testid="project-message"]')?.textContent.includes('Kept the current session'), null, { timeout: 60_000 });
    at('valid.zip dismissed');
    log(`  valid.zip over the demo asked: ${asked}`);
    assert.match(asked ?? '', /^Opening valid\.zip replaces the current session \(\d+ classes, \d+ images, 0 runs\), which has changes not saved as a project file\. Replace it\?/);
    assert.deepEqual(await storedSession(page), demo, 'Cancel keeps the demo');

    // OK, but the browser refuses the writes (the quota): the one transaction is aborted and the demo stays, whole.
    await page.evaluate(() => {
      const put = IDBObjectStore.prototype.put;
      window.__restorePut = () => (IDBObjectStore.prototype.put = put);
      IDBObjectStore.prototype.put = function () {
        throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      };
    });
    page.once('dialog', (d) => void d.accept());
    await page.setInputFiles('[data-testid="open-project-input"]', files.valid.path);
    await page.waitForFunction(() => document.querySelector('[data-testid="project-error"]')?.textContent.startsWith('valid.zip could not be stored'), null, { timeout: 60_000 });
    const quota = await page.textContent('[data-testid="project-error"]');
    log(`  valid.zip over a full storage: ${quota}`);
    assert.match(quota, /storage for this site is full.*Everything saved before is kept\..*The current session is unchanged\.$/);
    await page.evaluate(() => window.__restorePut());
    assert.deepEqual(await storedSession(page), demo, 'a replace the browser refused leaves the demo stored');
    assert.equal(await page.$$eval('[data-testid="class-card"]', (c) => c.length), demo.classes.length, 'and on the page');

    at('prompt and project refusals done');
    // An image whose header claims 60,000 × 60,000 pixels, on the zero-shot page (after a reload: the session is restored).
    await page.goto(`${baseUrl}${QUICK}#zero-shot`);
    await page.waitForSelector('[data-testid="model-ready"]', { timeout: 180_000 });
    const stop = await meter.start();
    const t0 = Date.now();
    await page.setInputFiles('[data-testid="file-input"]', files.png.path);
    const [card] = await waitForResults(page, 1, 60_000);
    const ms = Date.now() - t0;
    const mem = await stop();
    log(`  huge.png on the zero-shot page: ${ms} ms, JS heap peak ${mb(mem.heapPeak)}, renderer RSS peak ${mb(mem.rssPeak)}: ${card.error}`);
    assert.equal(card.error, 'huge.png is 60000×60000 (3600 megapixels), over the limit of 50 megapixels');
    rows.push({ ...files.png, message: card.error, ms, ...mem });

    // After a reload, the stored session is still the demo, on the page too.
    at('zero-shot done');
    await openTrain(page, url);
    at('reloaded');
    assert.deepEqual(await storedSession(page), demo, 'the demo is intact after the reload');
    assert.equal(await page.$$eval('[data-testid="class-card"]', (c) => c.length), demo.classes.length, 'the demo\'s classes are on the page');

    // OK replaces it, in one transaction; a reload shows the project.
    page.once('dialog', (d) => void d.accept());
    await page.setInputFiles('[data-testid="open-project-input"]', files.valid.path);
    await page.waitForFunction(() => document.querySelector('[data-testid="project-message"]')?.textContent.startsWith('Opened valid.zip'), null, { timeout: 60_000 });
    await openTrain(page, url);
    assert.deepEqual(await storedSession(page), { classes: ['disc:2'], images: 2, runs: 0 }, 'the opened project is what a reload restores');
    await meter.close();
    at('valid project opened and reloaded');

    const table = [
      '| File | Size on disk | Made with | Declares | What the app said | Time to the message | JS heap (main thread), before → peak | Renderer RSS (largest renderer), before → peak |',
      '|---|---|---|---|---|---|---|---|',
      ...rows.map((r) => `| ${r.name} | ${r.bytes.toLocaleString('en-US')} bytes | ${r.made} | ${r.declares} | ${r.message.replace(/\|/g, '\\|')} | ${r.ms} ms | ${mb(r.heapBefore)} → ${mb(r.heapPeak)} | ${mb(r.rssBefore)} → ${mb(r.rssPeak)} |`),
    ].join('\n');
    mkdirSync(join(ROOT, 'e2e/out'), { recursive: true });
    writeFileSync(join(ROOT, 'e2e/out/hostile-files.md'), `${table}\n`);
    log(table);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
