import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { chromium } from 'playwright-core';
import { CHROMIUM_PATH, FAKE_CAMERA, TEST_ARGS } from './chromium-flags.mjs';


function devtoolsUrl(child, timeoutMs = 30_000) {
  return new Promise((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`Chromium did not start:\n${err}`)), timeoutMs);
    child.stderr.on('data', (d) => {
      err += d;
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`Chromium exited (${code}):\n${err}`)));
  });
}

/**
 * Chromium on a fresh profile, driven over CDP. We start the process ourselves so that close() can
 * kill it by its id if a polite close hangs (SwiftShader's GPU process can stay busy for minutes).
 * `chromium` is the browser type to connect with: Playwright Test passes its own, so that the contexts made
 * on this browser get its traces and failure screenshots.
 */
export async function launchBrowser({ chromium: browserType = chromium } = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'coop-e2e-'));
  const child = spawn(
    CHROMIUM_PATH,
    [...TEST_ARGS, ...FAKE_CAMERA, `--user-data-dir=${profile}`, '--remote-debugging-port=0', 'about:blank'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const browser = await browserType.connectOverCDP(await devtoolsUrl(child));
  const [context] = browser.contexts();
  return {
    browser,
    context,
    pid: child.pid,
    async close() {
      const exited = new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
      await Promise.race([browser.close().catch(() => {}), new Promise((r) => setTimeout(r, 10_000))]);
      child.kill('SIGTERM');
      const killed = await Promise.race([exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 10_000))]);
      if (!killed) child.kill('SIGKILL');
      // Chromium's helper processes (a restarted GPU process, say) can still be writing the profile for a moment.
      try {
        rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 300 });
      } catch (e) {
        console.log(`e2e: note: could not remove the browser profile ${profile} (${e.code ?? e.message})`);
      }
    },
  };
}

/** A new page whose console errors and uncaught exceptions are kept for failure reports. */
export async function openPage(context, url) {
  const page = await context.newPage();
  const log = [];
  page.on('console', (m) => (m.type() === 'error' || m.type() === 'warning') && log.push(`console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
  page.log = log;
  await page.goto(url);
  return page;
}
