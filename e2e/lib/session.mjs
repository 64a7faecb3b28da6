/** Train page helpers for the session tests (e2e/specs/session.spec.mjs). */
import { waitForModel, waitForStatus } from './app.mjs';

/** CPU engine and WASM EP: these tests are about the session, not the engines, and must stay quick. */
export const QUICK = '?e2e=1&ep=wasm&engine=cpu';

export async function openTrain(page, url) {
  await page.goto(url);
  await waitForModel(page);
  await page.waitForSelector('[data-testid="session"][data-restored="true"]', { timeout: 120_000 });
}

/** Waits for a run's end: returns its status. */
export const waitForRun = (page, timeout = 900_000) => waitForStatus(page, ['done', 'failed'], timeout);

/** The stored runs, straight from IndexedDB (the test reads what the app saved, not what it shows). */
export function storedRuns(page) {
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open('coop-playground');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const req = db.transaction('runs').objectStore('runs').getAll();
          req.onsuccess = () => {
            db.close();
            resolve(
              req.result.map((r) => ({
                id: r.id,
                name: r.name,
                status: r.status,
                settings: r.settings,
                context: r.view?.context ? Array.from(r.view.context.data) : null,
                checkpointEpoch: r.checkpoint?.epoch ?? null,
                epochs: r.epochs.length,
                steps: r.loss.length,
              })),
            );
          };
          req.onerror = () => reject(req.error);
        };
      }),
  );
}

/** Class probabilities the predict panel gives `file` ({ name, mimeType, buffer }). */
export async function predict(page, file) {
  await page.setInputFiles('[data-testid="predict-input"]', file);
  await page.waitForFunction((n) => document.querySelector('[data-testid="prediction"]')?.dataset.name === n, file.name, { timeout: 60_000 });
  await page.waitForSelector('[data-testid="predict-coop"]', { timeout: 60_000 });
  return page.getAttribute('[data-testid="predict-coop"]', 'data-probs');
}

/**
 * The stored runs once autosave has caught up with the page: every run the page shows as ended is stored with that
 * status. Autosave writes 300 ms after a change, so a run read the moment the page says 'done' can still be its last
 * mid-run save (the CI machine read the uninterrupted run with 16 of its 40 steps that way).
 */
export async function settledRuns(page, count, timeout = 60_000) {
  const t0 = Date.now();
  for (;;) {
    const runs = await storedRuns(page);
    if (runs.length === count && runs.every((r) => r.status === 'done' || r.status === 'failed' || r.status === 'stopped')) return runs;
    if (Date.now() - t0 > timeout) throw new Error(`the stored runs did not settle in ${timeout / 1000} s: ${runs.map((r) => `${r.status} (${r.steps} steps)`).join(', ')}`);
    await page.waitForTimeout(200);
  }
}

export const maxAbsDiff = (a, b) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
