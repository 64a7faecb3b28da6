/**
 * The page's memory while something happens: the main thread's JS heap (CDP Performance.getMetrics JSHeapUsedSize)
 * and the resident memory of Chromium's renderer processes (/proc/<pid>/status VmRSS, pids from CDP
 * SystemInfo.getProcessInfo; Linux only, else null), polled every 25 ms; the peak of each is what a hostile file cost.
 * Array buffers (a file read into memory, an inflated zip entry) live outside the JS heap, hence the RSS too.
 */
import { readFileSync } from 'node:fs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function rss(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

export async function startMeter(page, browser) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const browserCdp = await browser.newBrowserCDPSession().catch(() => null);
  const heap = async () => {
    await cdp.send('Performance.enable').catch(() => {});
    const { metrics } = await cdp.send('Performance.getMetrics');
    return metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? null;
  };
  const rendererPids = async () => {
    if (!browserCdp) return [];
    const { processInfo } = await browserCdp.send('SystemInfo.getProcessInfo').catch(() => ({ processInfo: [] }));
    return processInfo.filter((p) => p.type === 'renderer').map((p) => p.id);
  };
  return {
    /** Starts polling; the function it returns stops and gives { heapBefore, heapPeak, rssBefore, rssPeak } in bytes. */
    async start() {
      let running = true;
      const seen = { heapBefore: null, heapPeak: null, rssBefore: null, rssPeak: null };
      const ready = (async () => {
        seen.heapBefore = await heap().catch(() => null);
        const pids = await rendererPids();
        const now = pids.map(rss).filter((r) => r != null);
        seen.rssBefore = now.length ? Math.max(...now) : null;
        return pids;
      })();
      const loop = (async () => {
        const pids = await ready;
        while (running) {
          const h = await heap().catch(() => null);
          if (h != null) seen.heapPeak = Math.max(seen.heapPeak ?? 0, h);
          for (const pid of pids) {
            const r = rss(pid);
            if (r != null) seen.rssPeak = Math.max(seen.rssPeak ?? 0, r);
          }
          await sleep(25);
        }
      })();
      await ready;
      return async () => {
        running = false;
        await loop;
        return seen;
      };
    },
    async close() {
      await cdp.detach().catch(() => {});
      await browserCdp?.detach().catch(() => {});
    },
  };
}
