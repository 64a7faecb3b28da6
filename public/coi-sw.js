/*
 * Cross-origin isolation on any static host (issue 17, point 5). Threads (the WASM engine's workers, onnxruntime-web's
 * WASM threads) need SharedArrayBuffer, which a page has only when it is cross-origin isolated: served with
 * Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp. `vite preview` sends them;
 * GitHub Pages or a storage bucket cannot. This service worker adds them to every response it serves the app, and
 * src/coi.ts registers it and reloads once so the page is served through it. Cross-origin responses (the model hub)
 * keep their own headers plus Cross-Origin-Resource-Policy, which require-corp asks of them; they are fetched with
 * CORS, which the hub allows.
 */
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (event) => {
  const request = event.request;
  // A request the browser may only answer from cache across origins cannot be re-fetched here.
  if (request.cache === 'only-if-cached' && request.mode !== 'same-origin') return;
  event.respondWith(
    fetch(request).then((response) => {
      // Opaque responses cannot be read or re-wrapped; errors pass as they are.
      if (response.status === 0 || response.type === 'opaque') return response;
      const headers = new Headers(response.headers);
      headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
      headers.set('Cross-Origin-Opener-Policy', 'same-origin');
      headers.set('Cross-Origin-Resource-Policy', 'cross-origin');
      return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
    }),
  );
});
