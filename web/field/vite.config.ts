import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';

// Served by the civgrid binary at /field/ (embedded in release builds). In development the
// dev server proxies the API to a running `civgrid demo` on :8080.
export default defineConfig({
  base: '/field/',
  plugins: [vue()],
  server: { port: 5174, proxy: { '/api': 'http://127.0.0.1:8080' } },
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 2000 },
});
