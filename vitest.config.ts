import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // WGSL tests share one Dawn device per file; files run in separate forks.
    pool: 'forks',
  },
});
