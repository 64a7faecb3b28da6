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

export const maxAbsDiff = (a, b) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
