import assert from 'node:assert/strict';
import { waitForModel, waitForStatus } from '../lib/app.mjs';
import { openPage } from '../lib/browser.mjs';
import { BASE_URL } from '../lib/server.mjs';

/**
 * The Train page's data cards as a user fills them: add and name classes, drop several files at once (two
 * pictures, a text file, a PNG whose header declares 10000×10000 pixels), paste pictures, delete a thumbnail,
 * a duplicate name, then train one short epoch: the two unusable files are named and left out, the rest trains;
 * then a webcam frame (Chromium's synthetic camera) through the predict panel, and a learning rate that overflows.
 * The CPU engine and the WASM EP keep it quick; the WGSL engine has its own scenario (train-flow.mjs).
 */
export async function trainData({ context, log }) {
  const page = await openPage(context, `${BASE_URL}?e2e=1&ep=wasm&engine=cpu#train`);
  try {
    await waitForModel(page);

    for (let i = 0; i < 2; i++) await page.click('[data-testid="add-class"]');
    const names = page.locator('[data-testid="class-card"] input[aria-label="Class name"]');
    await names.nth(0).fill('red things');
    await names.nth(1).fill('blue things');

    // Two pictures, a text file and a "huge" PNG dropped together on the first card, as from a file manager.
    await page.evaluate(async () => {
      const picture = async (name, colour, size) => {
        const canvas = new OffscreenCanvas(size, size);
        const c = canvas.getContext('2d');
        c.fillStyle = '#fff';
        c.fillRect(0, 0, size, size);
        c.fillStyle = colour;
        c.beginPath();
        c.arc(size / 2, size / 2, size / 3, 0, 2 * Math.PI);
        c.fill();
        return new File([await canvas.convertToBlob({ type: 'image/png' })], name, { type: 'image/png' });
      };
      // Signature + IHDR declaring 10000×10000: refused from the header, before any decoding.
      const ihdr = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0x27, 0x10, 0, 0, 0x27, 0x10, 8, 6, 0, 0, 0, 0, 0, 0, 0]);
      const files = [
        await picture('red-1.png', '#e03131', 80),
        await picture('red-2.png', '#c92a2a', 96),
        new File(['not a picture'], 'notes.txt', { type: 'text/plain' }),
        new File([ihdr], 'huge.png', { type: 'image/png' }),
      ];
      const dt = new DataTransfer();
      files.forEach((f) => dt.items.add(f));
      const zone = document.querySelectorAll('[data-testid="class-card"]')[0].querySelector('[data-testid="drop-train"]');
      zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));

      // Pasting (a screenshot, a copied image) into the second card's drop area.
      const pasted = new DataTransfer();
      pasted.items.add(await picture('image.png', '#1971c2', 72));
      pasted.items.add(await picture('image.png', '#1864ab', 88));
      pasted.items.add(await picture('image.png', '#339af0', 64));
      const target = document.querySelectorAll('[data-testid="class-card"]')[1].querySelector('[data-testid="drop-train"]');
      target.dispatchEvent(new ClipboardEvent('paste', { clipboardData: pasted, bubbles: true, cancelable: true }));
    });
    const counts = () => page.$$eval('[data-testid="class-card"] [data-testid="counts"]', (els) => els.map((e) => Number(e.dataset.train)));
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="class-card"] [data-testid="counts"]')].map((e) => e.dataset.train).join() === '4,3');
    const thumbs = await page.$$eval('[data-testid="class-card"]', (cards) => cards.map((c) => c.querySelectorAll('[data-testid="thumb"]').length));
    assert.deepEqual(thumbs, [4, 3], 'one thumbnail per dropped or pasted file');
    const pastedNames = await page.$$eval('[data-testid="class-card"]:nth-of-type(2) [data-testid="thumb"] img', (imgs) => imgs.map((i) => i.alt));
    assert.ok(pastedNames.every((n) => /^pasted-.*\.png$/.test(n)), `pasted images get their own names (${pastedNames.join(', ')})`);

    // Delete one pasted picture.
    const thumb = page.locator('[data-testid="class-card"]').nth(1).locator('[data-testid="thumb"]').first();
    await thumb.hover();
    await thumb.locator('.thumb-delete').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="class-card"] [data-testid="counts"]')[1].dataset.train === '2');
    assert.deepEqual(await counts(), [4, 2]);

    // A duplicate name stops training with a message that says which.
    await names.nth(1).fill('Red_things');
    await page.click('[data-testid="settings-more"]');
    await page.selectOption('[data-testid="setting-epochs-mode"]', 'fixed');
    await page.fill('[data-testid="setting-epochs"]', '2');
    await page.fill('[data-testid="setting-views"]', '1');
    await page.fill('[data-testid="setting-holdout"]', '0');
    await page.click('[data-testid="train"]');
    const problem = await page.textContent('[data-testid="train-problems"]', { timeout: 30_000 });
    assert.match(problem, /Duplicate class: "red things" and "Red_things" give the same prompt/);
    log(`  duplicate: ${problem.trim()}`);
    await names.nth(1).fill('blue things');

    await page.click('[data-testid="train"]');
    const status = await waitForStatus(page, ['done', 'failed'], 600_000);
    assert.equal(status, 'done', `training finished (${status}: ${await page.textContent('[data-testid="run-error"]').catch(() => '')})`);
    const left = await page.$$eval('[data-testid="file-errors"] li', (lis) => lis.map((l) => l.textContent));
    log(`  left out: ${left.join(' | ')}`);
    assert.ok(left.some((m) => m === 'notes.txt is not an image the browser can decode'), 'the text file is named');
    assert.ok(left.some((m) => /^huge\.png is 10000×10000 \(100 megapixels\), over the limit of 50 megapixels$/.test(m)), 'the huge image is named with its size');
    const summary = await page.textContent('[data-testid="class-card"]:nth-of-type(1) [data-testid="counts"]');
    assert.match(summary, /2 unusable/, `the card counts the unusable files (${summary})`);
    assert.equal(await page.$$eval('[data-testid="class-card"]:nth-of-type(1) .thumb-item.broken', (l) => l.length), 2, 'broken thumbnails are marked');

    // The predict panel's webcam (Chromium's synthetic camera): a captured frame gets the learned prompt's and
    // zero-shot's class probabilities.
    await page.click('[data-testid="webcam-start"]');
    await page.waitForFunction(() => document.querySelector('[data-testid="webcam-video"]')?.videoWidth > 0, null, { timeout: 30_000 });
    await page.click('[data-testid="webcam-capture"]');
    await page.waitForFunction(() => document.querySelector('[data-testid="prediction"]')?.dataset.name === 'webcam', null, { timeout: 60_000 });
    await page.waitForSelector('[data-testid="predict-coop"]', { timeout: 60_000 });
    const probs = (await page.getAttribute('[data-testid="predict-coop"]', 'data-probs')).split(',').map(Number);
    assert.equal(probs.length, 2, 'one probability per class');
    assert.ok(Math.abs(probs[0] + probs[1] - 1) < 2e-3, `the probabilities sum to 1 (${probs})`);
    assert.ok(await page.$('[data-testid="predict-zeroshot"]'), 'zero-shot probabilities beside them');
    log(`  webcam frame: learned prompt ${probs.join(' / ')}, zero-shot ${await page.getAttribute('[data-testid="predict-zeroshot"]', 'data-probs')}`);

    // A learning rate that overflows float32 (the context reaches ~1e36 in one step, the next update overflows):
    // the run fails with a message that says what to do, keeps the last finite context, and resumes once the rate
    // is sane again.
    await page.fill('[data-testid="setting-epochs"]', '6');
    await page.fill('[data-testid="setting-lr"]', '1e38');
    await page.click('[data-testid="train"]');
    await page.waitForFunction(() => ['done', 'failed'].includes(document.querySelector('[data-testid="run-stats"]')?.dataset.status) && document.querySelector('[data-testid="run-error"]'), null, { timeout: 300_000, polling: 500 });
    const nanMessage = (await page.textContent('[data-testid="run-error"]')).trim();
    log(`  lr 1e38: ${nanMessage}`);
    assert.equal(await page.getAttribute('[data-testid="run-stats"]', 'data-status'), 'failed');
    assert.match(nanMessage, /^(Loss|The gradient|The context) became (NaN|infinite) (after the update )?at epoch \d+ step \d+; the context was restored to the last finite values\. Lower the learning rate and resume\./);
    assert.equal(await page.textContent('[data-testid="train"]'), 'Resume');
    await page.fill('[data-testid="setting-lr"]', '0.002');
    await page.click('[data-testid="train"]');
    assert.equal(await waitForStatus(page, ['done', 'failed'], 300_000), 'done', 'resumed with a sane learning rate to the end');
  } finally {
    await page.close();
  }
}
