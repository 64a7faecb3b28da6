/**
 * dist/ behind a plain static server (no COOP/COEP headers, as GitHub Pages or a bucket): the app registers its
 * service worker (public/coi-sw.js), reloads once through it, and is then cross-origin isolated, so the CPU engine
 * trains on every core (issue 17, point 5). Load demo and a one-epoch run on the WASM engine; the badge shows the
 * threads.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test, ROOT } from '../lib/fixtures.mjs';
import { startStaticServer } from '../lib/static-server.mjs';
import { waitForModel } from '../lib/app.mjs';
import { QUICK, waitForRun } from '../lib/session.mjs';
import { PORT } from '../lib/server.mjs';

test('dist/ on a static host without isolation headers becomes cross-origin isolated through its service worker and trains on every core', async ({ page, log }) => {
  test.setTimeout(15 * 60_000);
  // Another port than the app server's: another origin, so its service worker is this test's own.
  const host = await startStaticServer(join(ROOT, 'dist'), PORT + 7);
  try {
    const head = await fetch(host.url);
    assert.equal(head.headers.get('cross-origin-embedder-policy'), null, 'the static server sends no isolation headers');
    await page.goto(`${host.url}${QUICK}#train&epochs=1&views=1`);
    // The first load registers the worker and reloads; wait until a load is isolated.
    const t0 = Date.now();
    let isolated = false;
    while (!isolated && Date.now() - t0 < 120_000) {
      isolated = await page.evaluate(() => globalThis.crossOriginIsolated === true).catch(() => false);
      if (!isolated) await page.waitForTimeout(250);
    }
    assert.ok(isolated, 'the page became cross-origin isolated');
    const controlled = await page.evaluate(() => !!navigator.serviceWorker.controller);
    assert.ok(controlled, 'served through the service worker');
    log(`  cross-origin isolated after ${Date.now() - t0} ms (one reload through public/coi-sw.js)`);
    await waitForModel(page);
    await page.click('[data-testid="load-demo"]');
    await page.click('[data-testid="train"]');
    assert.equal(await waitForRun(page), 'done');
    const [cores, badge, title] = await page.evaluate(() => {
      const b = document.querySelector('[data-testid="engine-badge"]');
      return [navigator.hardwareConcurrency, b?.textContent ?? '', b?.getAttribute('title') ?? ''];
    });
    log(`  ${cores} cores; engine badge "${badge}" (${title})`);
    assert.match(title, /WebAssembly SIMD/, 'the WASM CPU engine trained');
    if (cores > 1) assert.match(badge, new RegExp(`${Math.min(8, cores)} threads`), 'on every core');
  } finally {
    await host.close();
  }
});
