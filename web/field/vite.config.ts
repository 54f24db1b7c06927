import { defineConfig, type Plugin } from 'vite';
import vue from '@vitejs/plugin-vue';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Writes the app shell into the service worker after a build: every emitted file and public
 * file (except the worker itself) goes into `FILES`, and a hash of them into `VERSION`, so a new
 * build replaces the cached shell.
 */
function precache(): Plugin {
  let outDir = 'dist';
  return {
    name: 'civgrid-precache',
    apply: 'build',
    configResolved(c) {
      outDir = c.build.outDir;
    },
    writeBundle(_, bundle) {
      const files = [
        ...Object.keys(bundle).filter((f) => f !== 'index.html' && !f.endsWith('.map')),
        ...readdirSync('public').filter((f) => f !== 'sw.js'),
      ].sort();
      const hash = createHash('sha256');
      for (const f of files) hash.update(f);
      hash.update(readFileSync(join(outDir, 'index.html')));
      const version = hash.digest('hex').slice(0, 12);
      const sw = join(outDir, 'sw.js');
      const src = readFileSync(sw, 'utf8')
        .replace("const VERSION = 'dev';", `const VERSION = '${version}';`)
        .replace('const FILES = [];', `const FILES = ${JSON.stringify(files)};`);
      if (!src.includes(version)) throw new Error('sw.js: VERSION/FILES placeholders not found');
      writeFileSync(sw, src);
    },
  };
}

// Served by the civgrid binary at /field/ (embedded in release builds). In development (and
// `vite preview`) the API is proxied to a running `civgrid demo`, :8080 unless CIVGRID_API says.
const api = { '/api': process.env.CIVGRID_API ?? 'http://127.0.0.1:8080' };

export default defineConfig({
  base: '/field/',
  plugins: [vue(), precache()],
  server: { port: 5174, proxy: api },
  preview: { port: 5174, proxy: api },
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 2000 },
});
