/**
 * The WASM EP's thread count: every core (at most 16; ORT's own default is half of them, at most 4). Threads need
 * SharedArrayBuffer, which only a cross-origin isolated page has (the server's COOP/COEP headers, or public/coi-sw.js
 * on a static host).
 */
export function wasmThreads(isolated: boolean, cores: number | undefined): number {
  return isolated ? Math.max(1, Math.min(16, cores || 1)) : 1;
}
