/**
 * "Open dataset…" (issue 18): a folder in CoOp's layout (DTD's split_zhou JSON over images/, built here from the demo's
 * pictures) picked with shots and seed fills one card per class with Dassl's few-shot draw and the test split;
 * a split file that reaches outside its folder is refused with its entry.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from '../lib/fixtures.mjs';
import { openTrain, QUICK } from '../lib/session.mjs';

function dtd(root, classes, edit) {
  const split = { train: [], val: [], test: [] };
  for (let i = 0; i < 6; i++) {
    classes.forEach((c, y) => {
      const s = i < 3 ? 'train' : i < 4 ? 'val' : 'test';
      const rel = `${c}/${c}_${i}.jpg`;
      mkdirSync(join(root, 'images', c), { recursive: true });
      copyFileSync(join('public/samples', i < 4 ? 'train' : 'test', c, `00${i}.jpg`), join(root, 'images', rel));
      split[s].push([rel, y, c]);
    });
  }
  edit?.(split);
  writeFileSync(join(root, 'split_zhou_DescribableTextures.json'), JSON.stringify(split));
}

test('Open dataset…: a folder in CoOp layout with shots and seed fills the cards with the official subset; a hostile split is refused', async ({ page, baseUrl }) => {
  const tmp = mkdtempSync(join(tmpdir(), 'coop-open-dataset-'));
  try {
    dtd(join(tmp, 'dtd'), ['disc', 'box', 'kite']);
    dtd(join(tmp, 'bad', 'dtd'), ['disc', 'box'], (s) => (s.test[1][0] = '../../../etc/passwd'));
    await openTrain(page, `${baseUrl}${QUICK}#train`);
    await page.click('[data-testid="open-dataset"]');
    await page.fill('[data-testid="open-dataset-shots"]', '2');
    await page.fill('[data-testid="open-dataset-seed"]', '1');
    await page.setInputFiles('[data-testid="open-dataset-input"]', join(tmp, 'dtd'));
    await page.waitForSelector('[data-testid="open-dataset-status"]');
    const status = await page.textContent('[data-testid="open-dataset-status"]');
    assert.match(status, /dtd: 3 classes, 6 training images \(2 shots, seed 1, Dassl's draw\), 6 test images/);
    const names = await page.$$eval('[data-testid="class-card"] input[aria-label="Class name"]', (els) => els.map((e) => e.value));
    assert.deepEqual(names, ['disc', 'box', 'kite']);
    const counts = await page.$$eval('[data-testid="class-card"] [data-testid="counts"]', (els) => els.map((e) => `${e.dataset.train}/${e.dataset.test}`));
    assert.deepEqual(counts, ['2/2', '2/2', '2/2']);

    await page.click('[data-testid="open-dataset"]');
    await page.setInputFiles('[data-testid="open-dataset-input"]', join(tmp, 'bad', 'dtd'));
    await page.waitForFunction(() => document.querySelector('[data-testid="open-dataset-status"]')?.getAttribute('role') === 'alert');
    assert.match(await page.textContent('[data-testid="open-dataset-status"]'), /"test" entry 1: the image path "\.\.\/\.\.\/\.\.\/etc\/passwd" is refused/);
    // The cards of the dataset opened before are kept.
    assert.equal(await page.locator('[data-testid="class-card"]').count(), 3);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
