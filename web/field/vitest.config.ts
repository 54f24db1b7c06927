import { defineConfig } from 'vitest/config';

// Unit tests of the plain TypeScript modules (IndexedDB through fake-indexeddb).
export default defineConfig({
  test: { include: ['src/**/*.test.ts'], environment: 'node' },
});
