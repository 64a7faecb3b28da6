/** The WASM EP's thread count: threads need SharedArrayBuffer, which only a cross-origin isolated page (COOP/COEP) has. */
export function wasmThreads(isolated: boolean, cores: number | undefined): number {
  return isolated ? Math.min(4, cores || 1) : 1;
}
