import assert from 'node:assert/strict';
import { setClasses, waitForModel, waitForResults } from '../lib/app.mjs';
import { BASE_URL } from '../lib/server.mjs';
import { openPage } from '../lib/browser.mjs';

const problems = (page) => page.$$eval('[data-testid="class-problems"] li', (lis) => lis.map((li) => li.textContent));

/** What a user gets wrong on the zero-shot page, and what the app must say about it. */
export async function inputErrors({ context }) {
  const page = await openPage(context, `${BASE_URL}#zero-shot`);
  try {
    await waitForModel(page);
    await page.setInputFiles('[data-testid="file-input"]', [
      { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a picture') },
    ]);
    const [card] = await waitForResults(page, 1);
    assert.equal(card.state, 'error');
    assert.equal(card.error, 'notes.txt is not an image the browser can decode');

    // A real drop, as from the desktop: a DragEvent carrying a File.
    await page.evaluate(async () => {
      const canvas = new OffscreenCanvas(40, 40);
      const c = canvas.getContext('2d');
      c.fillStyle = '#1c7ed6';
      c.fillRect(8, 8, 24, 24);
      const file = new File([await canvas.convertToBlob({ type: 'image/png' })], 'dropped.png', { type: 'image/png' });
      const dataTransfer = new DataTransfer();
      dataTransfer.items.add(file);
      const zone = document.querySelector('[data-testid="dropzone"]');
      zone.dispatchEvent(new DragEvent('drop', { dataTransfer, bubbles: true, cancelable: true }));
    });
    const dropped = (await waitForResults(page, 2)).find((r) => r.name === 'dropped.png');
    assert.equal(dropped?.state, 'done', 'a dropped image is classified');

    await setClasses(page, ['circle', 'Circle', 'circle']);
    await page.waitForSelector('[data-testid="class-problems"]');
    assert.deepEqual(await problems(page), [
      'Duplicate class: "circle" and "Circle" differ only in case or spacing, which the tokenizer ignores.',
    ]);

    await setClasses(page, ['circle']);
    await page.waitForFunction(() => document.querySelector('[data-testid="class-problems"]')?.textContent.includes('second class'));

    await setClasses(page, ['circle', 'square '.repeat(80).trim()]);
    await page.waitForFunction(() => document.querySelector('[data-testid="class-problems"]')?.textContent.includes('too long'));
    const [long] = await problems(page);
    assert.match(long, /^Class "square square .*" is too long for the text encoder in "a photo of a square .*": Text is \d+ tokens too long \(\d+ > 77\)\.$/);
  } finally {
    await page.close();
  }
}

/** Broken model files are reported by path (served broken through request interception). */
export async function modelFileErrors({ context }) {
  const cases = [
    {
      route: '**/models/toy-clip/config.json',
      respond: (r) => r.fulfill({ status: 200, contentType: 'application/json', body: '{ "projection_dim": 128,, }' }),
      message: /^public\/models\/toy-clip\/config\.json is not valid JSON: /,
    },
    {
      route: '**/models/toy-clip/onnx/vision_model.onnx',
      respond: (r) => r.fulfill({ status: 404, body: 'Not Found' }),
      message: /^public\/models\/toy-clip\/onnx\/vision_model\.onnx is missing \(HTTP 404\); add the file to the model folder, or choose another model$/,
    },
    {
      route: '**/models/toy-clip/manifest.json',
      respond: async (r) => {
        const manifest = await (await r.fetch()).json();
        await r.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ ...manifest, embed_dim: 512 }) });
      },
      message: /^public\/models\/toy-clip\/manifest\.json disagrees with config\.json: manifest embed_dim is 512 but config\.json projection_dim is 128; fix manifest\.json, or delete it \(a folder as published needs none\)$/,
    },
  ];
  for (const c of cases) {
    const page = await context.newPage();
    try {
      await page.route(c.route, c.respond);
      await page.goto(`${BASE_URL}#zero-shot`);
      const el = await page.waitForSelector('[data-testid="model-error"]', { timeout: 60_000 });
      assert.match((await el.textContent()).trim(), c.message);
    } finally {
      await page.close();
    }
  }
}
