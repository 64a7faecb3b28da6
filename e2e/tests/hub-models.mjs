import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { waitForModel, waitForStatus } from '../lib/app.mjs';
import { openPage } from '../lib/browser.mjs';
import { startHubServer } from '../lib/hub-server.mjs';
import { BASE_URL } from '../lib/server.mjs';

const CLASSES = ['disc', 'box', 'wedge'];

/**
 * A model folder as published (no manifest.json): the ViT-B/32-sized random-weight stand-in (tools/clip-standin,
 * generated once into the ignored .cache/models/), its text tower as fp16 (the upcast path) and its image tower as
 * fp32; or, with E2E_HUB_MODEL=toy, a manifest-free copy of the bundled toy model (seconds instead of minutes).
 */
async function modelFolder(root, tmp) {
  if (process.env.E2E_HUB_MODEL === 'toy') {
    const dir = join(tmp, 'clip-standin');
    cpSync(join(root, 'public/models/toy-clip'), dir, { recursive: true, filter: (src) => !src.endsWith('manifest.json') });
    return { dir, label: 'manifest-free copy of toy-clip', text: 'fp32', name: 'clip-standin' };
  }
  const { ensureStandin } = await import('../../tools/clip-standin/standin.ts');
  const dir = ensureStandin('vit-b32');
  return { dir, label: `ViT-B/32-sized stand-in (${dir})`, text: 'fp16', name: basename(dir) };
}

/**
 * "Add a model…" end to end: add a repo by id from the local hub stand-in (progress per file and in total; the
 * connection dropped midway, Resume continues with a Range request), reload with the hub stopped (still listed,
 * loads from the browser's store with no request to the hub), train one epoch with 3 classes, export and import
 * the prompt; then the same folder through the folder picker (<input webkitdirectory>), and Remove.
 */
export async function hubModels({ context, root, log }) {
  const tmp = mkdtempSync(join(tmpdir(), 'coop-hub-e2e-'));
  const { dir, label, text, name } = await modelFolder(root, tmp);
  const REPO = `e2e-owner/${name}`;
  const hub = await startHubServer({ repos: { [REPO]: dir }, port: Number(process.env.E2E_HUB_PORT ?? 0) });
  let hubStopped = false;
  const page = await openPage(context, `${BASE_URL}?e2e=1&ep=wasm&engine=cpu#train`);
  try {
    await waitForModel(page);
    log(`  hub stand-in at ${hub.endpoint} serving ${label}`);
    await page.click('[data-testid="add-model-open"]');
    await page.fill('[data-testid="add-repo"]', REPO);
    await page.fill('[data-testid="add-endpoint"]', hub.endpoint);
    await page.selectOption('[data-testid="add-text-dtype"]', text);
    // Slow enough to watch the bars move; the image tower's transfer is dropped a third of the way in.
    const visionFile = 'onnx/vision_model.onnx';
    const textFile = text === 'fp16' ? 'onnx/text_model_fp16.onnx' : 'onnx/text_model.onnx';
    const visionSize = statSync(join(dir, visionFile)).size;
    if (process.env.E2E_HUB_MODEL === 'toy') hub.throttle(2 * 1024 * 1024);
    hub.cut(visionFile, Math.floor(visionSize / 3));
    const t0 = Date.now();
    await page.click('[data-testid="add-download"]');
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="add-progress"]')?.dataset.loaded) > 0, null, { timeout: 60_000, polling: 100 });
    const bars = await page.$$eval('[data-testid="add-file"]', (els) => els.map((e) => e.dataset.path));
    const total = await page.getAttribute('[data-testid="add-progress"]', 'data-total');
    assert.ok(bars.includes(visionFile) && bars.includes(textFile), `one bar per file: ${bars.join(', ')}`);
    log(`  progress: ${bars.length} file bars, ${total} bytes in total; label "${await page.getAttribute('[data-testid="add-progress"] [role=progressbar]', 'aria-label')}"`);

    await page.waitForSelector('[data-testid="add-resume"]', { timeout: 120_000 });
    const dropped = await page.textContent('[data-testid="add-error"]');
    assert.match(dropped, new RegExp(`${hub.endpoint}/${REPO}/resolve/main/${visionFile} stopped after .* MB of .* MB \\(the connection dropped.*Resume continues`));
    log(`  dropped connection: "${dropped.replace('Resume', '').trim()}"`);
    const kept = Number(await page.getAttribute(`[data-testid="add-file"][data-path="${visionFile}"]`, 'data-loaded'));
    assert.ok(kept > 0 && kept < visionSize, `part of the image tower was kept (${kept} of ${visionSize})`);
    // Resume, and the connection drops again a third further on; this time the page is reloaded before resuming:
    // the stored model is listed as incomplete, and its own Resume continues from what is on disk.
    hub.cut(visionFile, Math.floor(visionSize / 3));
    await page.click('[data-testid="add-resume"]');
    const resumed = () => hub.requests.find((r) => r.path.endsWith(visionFile) && r.range === `bytes=${kept}-${visionSize - 1}`);
    await page.waitForSelector('[data-testid="add-resume"]', { timeout: 120_000 });
    assert.ok(resumed(), `Resume asked for the rest with Range bytes=${kept}-`);
    const kept2 = Number(await page.getAttribute(`[data-testid="add-file"][data-path="${visionFile}"]`, 'data-loaded'));
    assert.ok(kept2 > kept && kept2 < visionSize, `more of the image tower was kept (${kept2} of ${visionSize})`);
    await page.reload();
    await waitForModel(page);
    await page.click('[data-testid="add-model-open"]');
    const row = page.locator('[data-testid="stored-model"][data-complete="false"]');
    assert.match(await row.locator('[data-testid="stored-size"]').textContent(), /\(incomplete\)/);
    await row.locator('[data-testid="stored-resume"]').click();
    await page.waitForSelector('[data-testid="add-model"]', { state: 'detached', timeout: 600_000 });
    assert.ok(hub.requests.some((r) => r.path.endsWith(visionFile) && r.range === `bytes=${kept2}-${visionSize - 1}`), `after the reload, the stored model's Resume asked for the rest with Range bytes=${kept2}-`);
    log(`  dropped twice: Resume in the dialog continued from ${(kept / 1e6).toFixed(1)} MB; after a page reload, the stored row's Resume from ${(kept2 / 1e6).toFixed(1)} MB`);
    await waitForModel(page, 600_000);
    const downloadLoad = (Date.now() - t0) / 1000;
    const towers = await page.textContent('[data-testid="model-towers"]');
    log(`  added (cut once, resumed) and loaded in ${downloadLoad.toFixed(1)} s: ${towers}`);
    assert.ok(towers.includes(`text: ${textFile} (${text}`) && towers.includes(`image: ${visionFile} (fp32)`), towers);
    assert.match(await page.textContent('[data-testid="model-ready"]'), new RegExp(name));
    assert.equal(await page.inputValue('[data-testid="logit-scale"]'), '100', 'no manifest: the logit scale is 100');

    // Reload with the hub gone: the model is listed, loads from the store, and nothing asks the hub.
    await hub.stop();
    hubStopped = true;
    const hubRequests = [];
    page.on('request', (r) => r.url().startsWith(hub.endpoint) && hubRequests.push(r.url()));
    let t = Date.now();
    await page.goto(`${BASE_URL}?e2e=1&ep=wasm&engine=cpu&model=${name}#train`);
    await waitForModel(page, 600_000);
    const reloadSeconds = (Date.now() - t) / 1000;
    const options = await page.$$eval('[data-testid="stored-option"]', (els) => els.map((e) => e.textContent));
    assert.equal(options.length, 1, `listed after reload: ${options.join(' | ')}`);
    assert.match(options[0], new RegExp(`${name} .*stored, \\d+\\.\\d MB`));
    assert.match(await page.textContent('[data-testid="model-ready"]'), new RegExp(name));
    assert.deepEqual(hubRequests, [], 'loading a stored model asks the hub nothing');
    log(`  after reload with the hub stopped: "${options[0]}" loads in ${reloadSeconds.toFixed(1)} s, 0 requests to the hub`);

    // One epoch with 3 classes, then export and import the learned prompt.
    for (let i = 0; i < CLASSES.length; i++) await page.click('[data-testid="add-class"]');
    const names = page.locator('[data-testid="class-card"] input[aria-label="Class name"]');
    for (let i = 0; i < CLASSES.length; i++) {
      await names.nth(i).fill(CLASSES[i]);
      const files = [0, 1, 2, 3].map((k) => join(root, `public/samples/train/${CLASSES[i]}/00${k}.jpg`));
      await page.locator('[data-testid="class-card"]').nth(i).locator('[data-testid="file-input-train"]').setInputFiles(files);
    }
    await page.click('[data-testid="settings-more"]');
    await page.selectOption('[data-testid="setting-epochs-mode"]', 'fixed');
    await page.fill('[data-testid="setting-epochs"]', '1');
    await page.fill('[data-testid="setting-views"]', '1');
    t = Date.now();
    await page.click('[data-testid="train"]');
    const status = await waitForStatus(page, ['done', 'failed'], 900_000);
    const trainSeconds = (Date.now() - t) / 1000;
    const runError = await page.$('[data-testid="run-error"]');
    assert.equal(status, 'done', `one epoch trained: ${runError ? await runError.textContent() : ''}`);
    log(`  trained 1 epoch on 3 classes (${await page.getAttribute('[data-testid="run-stats"]', 'data-steps')} steps) in ${trainSeconds.toFixed(1)} s with encoding, engine start and proof`);
    // The PyTorch reference (baselines.json) belongs to the bundled model on the demo's classes: not beside this one.
    const comparison = await page.textContent('[data-testid="comparison"]');
    assert.ok(!comparison.includes('PyTorch'), `another model shows this browser's numbers alone: ${comparison}`);
    t = Date.now();
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="export"]')]);
    const exported = join(tmp, download.suggestedFilename());
    await download.saveAs(exported);
    await page.setInputFiles('[data-testid="import-input"]', exported);
    await page.waitForSelector('[data-testid="imported"], [data-testid="import-error"]', { timeout: 300_000 });
    const importError = await page.$('[data-testid="import-error"]');
    assert.equal(importError && (await importError.textContent()), null, 'the exported prompt imports');
    log(`  exported ${download.suggestedFilename()} and imported it back (${((Date.now() - t) / 1000).toFixed(1)} s)`);

    // The same folder through the folder picker: stored beside the hub copy.
    await page.click('[data-testid="add-model-open"]');
    await page.selectOption('[data-testid="add-text-dtype"]', text);
    t = Date.now();
    await page.setInputFiles('[data-testid="add-folder-input"]', dir);
    await page.waitForSelector('[data-testid="add-model"]', { state: 'detached', timeout: 600_000 });
    const stored = await page.$$eval('[data-testid="stored-option"]', (els) => els.map((e) => e.textContent));
    assert.equal(stored.length, 2, `hub and folder copies listed: ${stored.join(' | ')}`);
    log(`  folder picker: ${stored[1]}, copied in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    // The copy is selected and starts loading; Remove does not wait for it (a removed model's load is dropped).
    await page.click('[data-testid="remove-model"]');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="stored-option"]').length === 1);
    log('  Remove deleted the selected copy; the other stays listed');
    // Leave the profile's store empty for the tests after this one.
    await page.evaluate(async () => (await navigator.storage.getDirectory()).removeEntry('coop-models', { recursive: true }));
  } catch (e) {
    e.message += page.log?.length ? `\n  page log:\n  ${page.log.join('\n  ')}` : '';
    throw e;
  } finally {
    await page.close();
    if (!hubStopped) await hub.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}
