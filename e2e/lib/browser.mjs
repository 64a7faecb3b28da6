import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

// SwiftShader's Vulkan gives Chromium a WebGPU adapter without a GPU (checked: requestAdapter() is
// non-null on this machine with exactly these flags).
const ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-angle=swiftshader',
  '--use-vulkan=swiftshader',
];

/** A fresh Chromium profile per run; returns the context and a close() that also removes the profile. */
export async function launchBrowser() {
  const profile = mkdtempSync(join(tmpdir(), 'coop-e2e-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ARGS,
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
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
