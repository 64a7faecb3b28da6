import { defineConfig } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';
import { CHROMIUM_PATH, TEST_ARGS } from './e2e/lib/chromium-flags.mjs';

// Files whose WGSL parts need a GPU device. They run twice: in the node project on Dawn (the npm
// `webgpu` package; npm test points it at Chromium's SwiftShader) and in the browser project on
// Chromium's WebGPU (tests/helpers/webgpu.ts picks the device).
const GPU_FILES = ['tests/ops/*.test.ts', 'tests/engine/text-engine.test.ts'];
// The WASM kernels run in Chromium too: its relaxed SIMD (FMA) build, which Node 20 cannot validate, is checked there.
const WASM_FILES = ['tests/engine/wasm/kernels.test.ts'];
// Browser-only parts (OPFS, File System Access): Chromium only.
const BROWSER_ONLY = ['tests/browser/**/*.test.ts'];


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
          exclude: BROWSER_ONLY,
          environment: 'node',
          // Node Dawn keeps one device per file; files run in separate forks.
          pool: 'forks',
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          include: [...GPU_FILES, ...WASM_FILES, ...BROWSER_ONLY],
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            // Playwright's launch() (not a persistent context) gives every run a fresh temporary profile.
            provider: playwright({
              launchOptions: { executablePath: CHROMIUM_PATH, args: TEST_ARGS },
            }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
    ],
  },
});
