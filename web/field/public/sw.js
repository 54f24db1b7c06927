// Service worker of the field app (scope /field/): keeps the app shell — index.html, the built
// assets, icons and manifest — so the app opens without a network. API calls (/api/…) are never
// cached or answered here; the app's own IndexedDB queue deals with being offline.
//
// The build writes the list of files and a version into the two constants below (see the
// `precache` plugin in vite.config.ts), so every new build installs a new cache and drops the
// old one. In development the list is empty and the worker is not registered.
const VERSION = 'dev';
const FILES = [];

const SCOPE = new URL(self.registration.scope).pathname; // "/field/"
const CACHE = `civgrid-field-${VERSION}`;
const SHELL = SCOPE; // index.html, cached under the scope URL

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      await cache.addAll([SHELL, ...FILES.map((f) => SCOPE + f)].map((u) => new Request(u, { cache: 'reload' })));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith('civgrid-field-') && name !== CACHE) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/api/') || !url.pathname.startsWith(SCOPE)) return;
  if (url.pathname === SCOPE + 'sw.js') return;

  // Pages of the single-page app: the cached shell, the network only when it is missing.
  if (req.mode === 'navigate') {
    event.respondWith(
      (async () => (await caches.match(SHELL, { cacheName: CACHE, ignoreVary: true })) ?? fetch(req))(),
    );
    return;
  }

  // Built files have hashed names: cache first; anything not precached is kept once fetched.
  // (Vary is ignored: a module script asks with an Origin header, the precache did not.)
  event.respondWith(
    (async () => {
      const hit = await caches.match(req, { cacheName: CACHE, ignoreSearch: true, ignoreVary: true });
      if (hit) return hit;
      const res = await fetch(req);
      if (res.ok && res.type === 'basic') {
        const cache = await caches.open(CACHE);
        await cache.put(req, res.clone());
      }
      return res;
    })(),
  );
});
