/**
 * Makes the page cross-origin isolated where its host does not (public/coi-sw.js): registers the service worker and
 * reloads once so that the page itself is served through it. Where the server already sends COOP/COEP (`vite
 * preview`, `npm start`) or service workers are unavailable (no secure context, a private window that refuses them),
 * it does nothing and the app runs on one thread, as the engine badge then says.
 */
const RELOADED = 'coop-playground:coi-reload';

export type Isolation = 'isolated' | 'reloading' | 'unavailable';

export async function ensureCrossOriginIsolation(): Promise<Isolation> {
  if (globalThis.crossOriginIsolated) {
    sessionStorage.removeItem(RELOADED);
    return 'isolated';
  }
  // Only the production build: the dev server sends the headers itself, and a worker would cache its modules.
  if (!import.meta.env.PROD || !('serviceWorker' in navigator) || !window.isSecureContext) return 'unavailable';
  try {
    await navigator.serviceWorker.register(`${import.meta.env.BASE_URL}coi-sw.js`, { scope: import.meta.env.BASE_URL });
    await navigator.serviceWorker.ready;
  } catch (e) {
    console.warn(`cross-origin isolation: the service worker could not be registered (${(e as Error).message}); running on one thread`);
    return 'unavailable';
  }
  // Reloaded once already and still not isolated (a browser that ignores the worker's headers): do not loop.
  if (sessionStorage.getItem(RELOADED)) return 'unavailable';
  sessionStorage.setItem(RELOADED, '1');
  location.reload();
  return 'reloading';
}
