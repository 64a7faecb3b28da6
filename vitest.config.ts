import { defineConfig } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';

// Files whose WGSL parts need a GPU device. They run twice: in the node project on Dawn (the npm
// `webgpu` package; npm test points it at Chromium's SwiftShader) and in the browser project on
// Chromium's WebGPU (tests/helpers/webgpu.ts picks the device).
const GPU_FILES = ['tests/ops/*.test.ts', 'tests/engine/text-engine.test.ts'];

// Same flags as e2e/lib/browser.mjs: SwiftShader's Vulkan gives Chromium a WebGPU adapter without a GPU.
const CHROMIUM_ARGS = [
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

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          include: ['tests/**/*.test.ts'],
          environment: 'node',
          // Node Dawn keeps one device per file; files run in separate forks.
          pool: 'forks',
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          include: GPU_FILES,
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            // Playwright's launch() (not a persistent context) gives every run a fresh temporary profile.
            provider: playwright({
              launchOptions: { executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: CHROMIUM_ARGS },
            }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
    ],
  },
});
