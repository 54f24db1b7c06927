import { defineConfig } from 'vitest/config';

// The browser specs run one file at a time against one demo server started in globalSetup.
export default defineConfig({
  test: {
    include: ['specs/**/*.spec.ts'],
    globalSetup: ['lib/server.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
