/** Page helpers for the app's pages (selectors are the app's data-testid attributes). */

export async function waitForModel(page, timeout = 180_000) {
  await page.waitForSelector('[data-testid="model-ready"], [data-testid="model-error"]', { timeout });
  const error = await page.$('[data-testid="model-error"]');
  if (error) throw new Error(`model failed to load: ${await error.textContent()}`);
  return page.getAttribute('[data-testid="ep-badge"]', 'data-ep');
}

/** Waits until every image card has a prediction or an error (so the class list must be valid). */
export async function waitForResults(page, count, timeout = 300_000) {
  await page.waitForFunction(
    (n) => {
      const cards = [...document.querySelectorAll('[data-testid="result"]')];
      return cards.length === n && cards.every((c) => c.dataset.state === 'done' || c.dataset.state === 'error');
    },
    count,
    { timeout, polling: 250 },
  );
  return page.$$eval('[data-testid="result"]', (cards) =>
    cards.map((c) => ({
      name: c.dataset.name,
      state: c.dataset.state,
      top1: c.dataset.top1,
      topP: Number.parseFloat(c.querySelector('.score.top .score-p')?.textContent ?? 'NaN') / 100,
      error: c.querySelector('[data-testid="image-error"]')?.textContent ?? null,
    })),
  );
}

export async function setClasses(page, names) {
  await page.fill('[data-testid="classes"]', names.join('\n'));
}

/** Waits until the class features in use are those of `names` over `templateCount` templates. */
export async function waitForClassFeatures(page, names, templateCount = 1, timeout = 300_000) {
  await page.waitForFunction(
    ([joined, count]) => {
      const el = document.querySelector('[data-testid="zero-shot"]');
      return el?.dataset.textStatus === 'ready' && el.dataset.textNames === joined && el.dataset.textTemplates === String(count);
    },
    [names.join('\n'), templateCount],
    { timeout, polling: 250 },
  );
}

export async function clearImages(page) {
  const clear = page.getByRole('button', { name: 'Clear' });
  if (await clear.count()) await clear.click();
}

export function readAccuracy(page) {
  return page.$eval('[data-testid="accuracy"]', (el) => ({
    correct: Number(el.dataset.correct),
    total: Number(el.dataset.total),
  }));
}

/** Train page: waits until the run's status is one of `statuses`, and returns it. */
export async function waitForStatus(page, statuses, timeout) {
  await page.waitForFunction((s) => s.includes(document.querySelector('[data-testid="run-stats"]')?.dataset.status), statuses, { timeout, polling: 250 });
  return page.getAttribute('[data-testid="run-stats"]', 'data-status');
}
