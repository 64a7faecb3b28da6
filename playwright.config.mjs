import { defineConfig } from '@playwright/test';

/**
 * The browser tests (e2e/specs/) on Playwright Test: `npm run e2e` (all), `npm run e2e -- -g train` (by title),
 * `npx playwright show-report e2e/out/report` (the HTML report, with traces and screenshots of failures).
 * Chromium, the app server and the reference are fixtures (e2e/lib/fixtures.mjs). One worker: the tests share
 * two cores with SwiftShader's software GPU, and several of them take minutes.
 */
export default defineConfig({
  testDir: 'e2e/specs',
  outputDir: 'e2e/out/results',
  globalTeardown: './e2e/lib/global-teardown.mjs',
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: true,
  // Guards against a hang, not a speed limit: on a busy 2-core machine a training scenario can take 15 min.
  // The longest scenario (train-flow, WGSL on SwiftShader) sets its own.
  timeout: 30 * 60_000,
  globalTimeout: 90 * 60_000,
  reporter: [['list'], ['html', { outputFolder: 'e2e/out/report', open: 'never' }]],
  use: {
    // Traces with DOM snapshots, but no screencast: it would cost CPU that SwiftShader needs.
    trace: { mode: 'retain-on-failure', snapshots: true, screenshots: false, sources: true },
    screenshot: 'only-on-failure',
    video: 'off',
    // Default for actions and waits without their own timeout (playwright-core's default was 30 s under the former
    // runner); generous for a busy machine (a load average of 25 on 2 cores was seen), but a missing element fails the test instead of hanging it.
    actionTimeout: 180_000,
    navigationTimeout: 180_000,
  },
});
