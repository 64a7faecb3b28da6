/**
 * Playwright Test fixtures for the browser tests (e2e/specs/). Import `test` from here, never from
 * '@playwright/test' directly:
 *
 * - `server` (worker, automatic): the production build served by `vite preview` on E2E_PORT (default 4173),
 *   built first only when dist/ is missing; before every test it is restarted if it died (other work on the
 *   same machine can end it mid-run).
 * - `browser` (worker): Debian's Chromium with our flags (e2e/lib/chromium-flags.mjs: headless, WebGPU pinned to
 *   SwiftShader, the fake camera), started by us and driven over CDP so that closing it can kill it by its pid
 *   when a polite close hangs. Playwright's own `context` and `page` fixtures sit on it: every test gets a fresh
 *   context (its own IndexedDB, storage and cache: a "fresh profile"), with Playwright's traces and screenshots
 *   kept on failure (playwright.config.mjs).
 * - `baseUrl`: the server's address, ending in '/'.
 * - `reference` (worker, lazy): onnxruntime-node on the served model files (e2e/lib/reference.mjs).
 * - `log`: prints a line under the test's result (and into the HTML report's stdout).
 * - `openPage(url)`: a new page in the test's context whose console errors and page errors are collected; they
 *   are attached to the report when the test fails.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test as base } from '@playwright/test';
import { launchBrowser, openPage } from './browser.mjs';
import { PID_DIR } from './global-teardown.mjs';
import { createReference } from './reference.mjs';
import { BASE_URL, ensureBuild, startPreview } from './server.mjs';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

export const test = base.extend({
  server: [
    async ({}, use) => {
      ensureBuild(ROOT);
      const server = await startPreview(ROOT);
      try {
        await use(server);
      } finally {
        await server.stop();
      }
    },
    { scope: 'worker', auto: true, timeout: 600_000 },
  ],
  _serverAlive: [
    async ({ server }, use) => {
      await server.ensure();
      await use();
    },
    { auto: true },
  ],
  browser: [
    async ({ playwright }, use) => {
      const launched = await launchBrowser({ chromium: playwright.chromium });
      mkdirSync(PID_DIR, { recursive: true });
      const pidFile = join(PID_DIR, String(launched.pid));
      writeFileSync(pidFile, '');
      try {
        await use(launched.browser);
      } finally {
        await launched.close();
        rmSync(pidFile, { force: true });
      }
    },
    { scope: 'worker', timeout: 120_000 },
  ],
  baseUrl: [BASE_URL, { scope: 'worker' }],
  reference: [async ({ server: _ }, use) => use(await createReference(ROOT, BASE_URL)), { scope: 'worker', timeout: 120_000 }],
  root: [ROOT, { scope: 'worker' }],
  log: async ({}, use) => {
    await use((line) => console.log(line));
  },
  openPage: async ({ context }, use, testInfo) => {
    const pages = [];
    await use(async (url) => {
      const page = await openPage(context, url);
      pages.push(page);
      return page;
    });
    if (testInfo.status !== testInfo.expectedStatus) {
      const log = pages.flatMap((p) => p.log);
      if (log.length) await testInfo.attach('page log', { body: log.join('\n'), contentType: 'text/plain' });
    }
  },
});
