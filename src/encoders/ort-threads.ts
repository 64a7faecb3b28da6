/**
 * The WASM EP's thread count: every core (at most 16; ORT's own default is half of them, at most 4), or what the page
 * asked for with `?ep-threads=N` (to compare). Threads need SharedArrayBuffer, which only a cross-origin isolated page
 * has (the server's COOP/COEP headers, or public/coi-sw.js on a static host).
 */
export function wasmThreads(isolated: boolean, cores: number | undefined, asked?: string | null): number {
  if (!isolated) return 1;
  const n = Number(asked);
  if (asked && Number.isInteger(n) && n >= 1) return Math.min(n, 64);
  return Math.max(1, Math.min(16, cores || 1));
}
