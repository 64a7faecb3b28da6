/**
 * Runs the suite in headless Chromium: serves the bench page with Vite (bench/vite.config.ts),
 * opens it in a fresh profile and calls window.__runBench, forwarding the page's log lines.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { HEADLESS, WEBGPU } from '../../e2e/lib/chromium-flags.mjs';
import { createServer } from 'vite';
import type { Log } from './timing';
import type { BenchOptions, BenchResult } from './types';

// What headless Chromium needs for WebGPU on Linux, without pinning SwiftShader: on a machine without a GPU it
// falls back to SwiftShader's Vulkan by itself. Extra flags (--browser-arg) come after these.
const CHROMIUM_ARGS = [...HEADLESS, ...WEBGPU];

export async function runInBrowser(root: string, opts: BenchOptions, executablePath: string, extraArgs: string[], log: Log): Promise<BenchResult> {
  // The warning is about a future default loader; the config already asks for the bundling one.
  process.env.VITE_CONFIG_NATIVE_IGNORE_WARNING ??= 'true';
  // The model folder is served as plain files through Vite's /@fs/ route, and read by the app's loader there.
  const modelDir = resolve(root, opts.model);
  const server = await createServer({
    configFile: join(root, 'bench/vite.config.ts'),
    // The config imports the app's TypeScript plugin modules, which the native loader cannot.
    configLoader: 'bundle',
    server: { port: 0, host: '127.0.0.1', fs: { allow: [root, modelDir] } },
  });
  opts = { ...opts, modelUrl: `/@fs${modelDir}/` };
  await server.listen();
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('vite: the bench server has no URL');
  const profile = mkdtempSync(join(tmpdir(), 'coop-bench-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    // --headless=new is in the flags; Playwright's own headless switch picks the old mode.
    headless: false,
    args: [...CHROMIUM_ARGS, ...extraArgs],
  });
  try {
    const page = await context.newPage();
    page.on('console', (m) => {
      const t = m.text();
      if (t.startsWith('[bench] ')) log(t.slice(8));
      // Failed loads are reported with their URL by the response handler below.
      else if ((m.type() === 'error' || m.type() === 'warning') && !t.startsWith('Failed to load resource')) log(`page ${m.type()}: ${t}`);
    });
    page.on('pageerror', (e) => log(`page error: ${e.message}`));
    page.on('response', (r) => {
      if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) log(`HTTP ${r.status()}: ${r.url()}`);
    });
    await page.goto(url);
    await page.waitForFunction(() => window.__benchReady === true, undefined, { timeout: 120_000 });
    const result = await page.evaluate((o) => window.__runBench(o), opts);
    return result;
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
    await server.close();
  }
}
