/**
 * When autosave writes: a debounce (a burst of edits is one write) that is never postponed past `maxWaitMs`. A run
 * changes the store on every step; on the CPU twin with its matmul workers the demo steps every ~250 ms, so a plain
 * debounce did not fire until the run ended, and a reload mid-run found no checkpoint at all.
 */
export interface AutosaveTimer {
  /** A change happened: write after `delayMs` of quiet, or at the latest `maxWaitMs` after the first unsaved change. */
  schedule(): void;
  /** Writes now what is pending (if anything) and resolves once every write so far has finished. */
  flushNow(): Promise<void>;
}

export function autosaveTimer(write: () => Promise<void>, delayMs = 300, maxWaitMs = 2000): AutosaveTimer {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let pendingSince = 0;
  // Writes run one after another, never two at once.
  let chain: Promise<void> = Promise.resolve();
  const fire = () => {
    timer = null;
    chain = chain.then(write);
  };
  return {
    schedule() {
      const now = Date.now();
      if (timer) {
        if (now - pendingSince >= maxWaitMs) return;
        clearTimeout(timer);
      } else pendingSince = now;
      timer = setTimeout(fire, Math.min(delayMs, Math.max(0, pendingSince + maxWaitMs - now)));
    },
    async flushNow() {
      if (timer) {
        clearTimeout(timer);
        fire();
      }
      await chain;
    },
  };
}
