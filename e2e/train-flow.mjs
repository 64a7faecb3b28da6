/**
 * The Train page end to end: load the demo, train a few epochs (small epochs and views keep SwiftShader fast),
 * watch the loss chart grow and the training accuracy pass the zero-shot line, export the learned prompt,
 * reload, import it and get the same predictions; then the import errors.
 *
 * `trainFlow` takes a page; `trainFlowTest` adapts it to the spec's fixtures (e2e/specs/train-flow.spec.mjs).
 */
import nodeAssert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitForModel, waitForStatus } from './lib/app.mjs';

const EPOCHS = Number(process.env.TRAIN_E2E_EPOCHS ?? 4);
const VIEWS = Number(process.env.TRAIN_E2E_VIEWS ?? 2);
// The image tower runs on ORT's WASM EP here: on SwiftShader its WebGPU EP encodes about 3 images/s, and the demo
// needs ~800 encodes. The text engine (the part this scenario is about) is forced onto WebGPU in the worker
// (?engine=webgpu): left to choose, the app would measure SwiftShader slower and train on the CPU twin.
const QUERY = process.env.TRAIN_E2E_QUERY ?? '&ep=wasm&engine=webgpu';
/** URL flags of a full run per engine: 'auto' has none, as a newcomer opens the app. */
const FULL_QUERY = { auto: '', cpu: '&ep=wasm&engine=cpu', gpu: '&ep=wasm&engine=webgpu', allgpu: '&ep=webgpu&engine=webgpu' };

async function openTrain(page, baseUrl) {
  await page.goto(`${baseUrl}?e2e=1${QUERY}#train`);
  await waitForModel(page);
  await page.waitForSelector('[data-testid="load-demo"]');
}

async function loadDemo(page) {
  await page.click('[data-testid="load-demo"]');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="class-card"]').length >= 2 && !document.querySelector('[data-testid="load-demo"]').disabled, null, {
    timeout: 60_000,
  });
  return page.$$eval('[data-testid="class-card"]', (cards) =>
    cards.map((c) => ({ name: c.dataset.name, train: Number(c.querySelector('[data-testid="counts"]').dataset.train), test: Number(c.querySelector('[data-testid="counts"]').dataset.test) })),
  );
}

async function setNumber(page, testid, value) {
  await page.fill(`[data-testid="${testid}"]`, String(value));
}

/** Browser accuracies from the comparison table: { method: { split: fraction } }. */
function readComparison(page) {
  return page.$$eval('[data-testid="comparison"] tbody tr', (rows) =>
    Object.fromEntries(
      rows.map((r) => [
        r.dataset.testid.replace('row-', ''),
        Object.fromEntries([...r.querySelectorAll('td[data-split]')].filter((td) => td.dataset.value !== '').map((td) => [td.dataset.split, Number(td.dataset.value)])),
      ]),
    ),
  );
}

async function predictOne(page, file) {
  await page.setInputFiles('[data-testid="predict-input"]', file);
  await page.waitForSelector(`[data-testid="predict-coop"]`, { timeout: 60_000 });
  await page.waitForFunction((n) => document.querySelector('[data-testid="prediction"]')?.dataset.name === n, file.name);
  return {
    coop: await page.getAttribute('[data-testid="predict-coop"]', 'data-probs'),
    zeroShot: await page.getAttribute('[data-testid="predict-zeroshot"]', 'data-probs'),
  };
}

/** Points of the loss line as recharts drew them (one per logged step). */
function lossPathPoints(page) {
  return page.$eval('[data-testid="loss-chart"] path.recharts-line-curve', (p) => (p.getAttribute('d')?.match(/[MLC]/g) ?? []).length).catch(() => 0);
}

export async function trainFlow({ page, baseUrl, assert = nodeAssert, log = console.log }) {
  const tmp = mkdtempSync(join(tmpdir(), 'coop-train-e2e-'));
  try {
    await openTrain(page, baseUrl);
    const cards = await loadDemo(page);
    assert.ok(cards.length >= 2, 'demo gave class cards');
    log(`  demo: ${cards.length} classes, ${cards.reduce((s, c) => s + c.train, 0)} training and ${cards.reduce((s, c) => s + c.test, 0)} test images`);

    // Few epochs, few views: SwiftShader is slow. Warm-up is an ordinary epoch at 1e-5, so it is kept.
    await page.click('[data-testid="settings-more"]');
    await page.selectOption('[data-testid="setting-epochs-mode"]', 'fixed');
    await setNumber(page, 'setting-epochs', EPOCHS);
    await setNumber(page, 'setting-views', VIEWS);
    await page.click('[data-testid="train"]');
    const engine = await page.waitForSelector('[data-testid="engine-badge"]', { timeout: 120_000 });
    log(`  text engine: ${await engine.getAttribute('data-engine')} (${await engine.getAttribute('title')})`);
    const t0 = Date.now();
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="loss-chart"]')?.dataset.points) >= 2, null, { timeout: 600_000, polling: 250 });
    const early = await lossPathPoints(page);

    // The GPU process crashes (a driver reset, say) after the first epoch: the run stops with a message that
    // says what to do, what was learned stays, and Resume continues on a new device to the end of the schedule.
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="run-stats"]')?.dataset.epochs) >= 1, null, { timeout: 900_000, polling: 500 });
    const cdp = await page.context().browser().newBrowserCDPSession();
    await cdp.send('Browser.crashGpuProcess');
    await cdp.detach();
    const stoppedAs = await waitForStatus(page, ['stopped', 'failed', 'done'], 120_000);
    const lostMessage = await page.textContent('[data-testid="run-error"]');
    log(`  GPU process crashed after epoch ${await page.getAttribute('[data-testid="run-stats"]', 'data-epochs')}: ${stoppedAs}; "${lostMessage.trim()}"`);
    assert.match(lostMessage, /The GPU device of the training worker was lost.*press Resume to continue on a new device\. The learned context up to this point is kept\./);
    assert.ok(Number(await page.getAttribute('[data-testid="run-stats"]', 'data-epochs')) >= 1, 'the epochs done before the crash are kept');
    await page.click('[data-testid="train"]');
    const status = await waitForStatus(page, ['done', 'failed'], 1_800_000);
    const runError = await page.$('[data-testid="run-error"]');
    assert.equal(status, 'done', `training finished: ${runError ? await runError.textContent() : ''}`);
    const steps = Number(await page.getAttribute('[data-testid="run-stats"]', 'data-steps'));
    const late = await lossPathPoints(page);
    log(`  trained ${EPOCHS} epochs (${steps} steps) in ${((Date.now() - t0) / 1000).toFixed(1)} s; loss line grew from ${early} to ${late} points`);
    assert.ok(late > early && late === steps, `the loss chart drew every step (${late} points for ${steps} steps)`);
    const sps = await page.textContent('[data-testid="stat-sps"]');
    log(`  steps per second: ${sps}`);

    const before = await readComparison(page);
    const coopKey = Object.keys(before).find((k) => k.startsWith('coop'));
    const fmt = (m) => Object.entries(m).map(([s, v]) => `${s} ${(100 * v).toFixed(1)}%`).join(', ');
    for (const [k, v] of Object.entries(before)) log(`  ${k}: ${fmt(v)}`);
    assert.ok(before[coopKey].train > before.zero_shot.train, `training accuracy ${before[coopKey].train} above zero-shot ${before.zero_shot.train}`);

    const index = await (await fetch(`${baseUrl}samples/index.json`)).json();
    const imageResponse = await fetch(`${baseUrl}samples/${index.splits.test[0].file}`);
    const image = { name: 'probe.jpg', mimeType: 'image/jpeg', buffer: Buffer.from(await imageResponse.arrayBuffer()) };
    const predBefore = await predictOne(page, image);

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="export"]')]);
    const exported = join(tmp, download.suggestedFilename());
    await download.saveAs(exported);
    const json = JSON.parse(readFileSync(exported, 'utf8'));
    assert.equal(json.format, 'coop-prompt');
    log(`  exported ${download.suggestedFilename()} (${readFileSync(exported).length} bytes, n_ctx ${json.n_ctx}, csc ${json.csc})`);

    // A fresh page: nothing learned survives but the file. The session autosaves into IndexedDB and a reload would
    // restore it, so the page leaves the origin and the origin's stored data is cleared first (a fresh profile).
    await page.goto('about:blank');
    const site = await page.context().newCDPSession(page);
    await site.send('Storage.clearDataForOrigin', { origin: new URL(baseUrl).origin, storageTypes: 'indexeddb,local_storage,cache_storage' });
    await site.detach();
    await openTrain(page, baseUrl);
    await loadDemo(page);
    await page.setInputFiles('[data-testid="import-input"]', exported);
    await page.waitForSelector('[data-testid="imported"]', { timeout: 300_000 });
    await page.waitForFunction((k) => document.querySelector(`[data-testid="row-${k}"] td[data-split="test"]`)?.dataset.value, coopKey, { timeout: 300_000 });
    const after = await readComparison(page);
    assert.deepEqual(after[coopKey], before[coopKey], 'the imported prompt gives the same accuracies on every split');
    const predAfter = await predictOne(page, image);
    assert.deepEqual(predAfter, predBefore, 'the imported prompt gives the same class probabilities');
    log(`  after reload + import: ${fmt(after[coopKey])}, same probabilities on ${image.name}`);

    // Import errors are specific.
    const bad = [
      ['malformed.json', '{"format": "coop-prompt",', /not valid JSON/],
      ['other-model.json', JSON.stringify({ ...json, model: { ...json.model, id: 'vit-b-16' } }), /vit-b-16/],
      ['nan.json', JSON.stringify(json).replace(/("context":\[\[?)-?[0-9.e-]+/, '$1null'), /non-finite/],
      ['wrong-shape.json', JSON.stringify({ ...json, n_ctx: json.n_ctx + 1 }), /n_ctx/],
    ];
    let previous = '';
    for (const [name, text, expected] of bad) {
      const file = join(tmp, name);
      writeFileSync(file, text);
      await page.setInputFiles('[data-testid="import-input"]', file);
      await page.waitForFunction((p) => {
        const t = document.querySelector('[data-testid="import-error"]')?.textContent;
        return t && t !== p;
      }, previous, { timeout: 30_000 });
      previous = await page.textContent('[data-testid="import-error"]');
      log(`  ${name} refused: ${previous}`);
      assert.match(previous, expected);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** For e2e/specs/train-flow.spec.mjs: ({ context, log }), the test's fresh browser context. */
export async function trainFlowTest({ context, log }) {
  const { BASE_URL } = await import('./lib/server.mjs');
  const { openPage } = await import('./lib/browser.mjs');
  const page = await openPage(context, BASE_URL);
  try {
    await trainFlow({ page, baseUrl: BASE_URL, assert: nodeAssert, log });
  } catch (e) {
    e.message += page.log.length ? `\n  page log:\n  ${page.log.join('\n  ')}` : '';
    throw e;
  } finally {
    await page.close();
  }
}

/**
 * The full CoOp recipe on the demo (16 shots, epochs by shots → 200, 8 views), unified then CSC, logging the time
 * of each epoch and the browser's accuracies beside the zero-shot, ensemble and linear-probe baselines.
 * Slow: run it by hand, e.g. `node e2e/train-flow.mjs --full --engine=cpu --epochs=200 --csc=both`. `--engine=auto`
 * (the default) opens the app with no URL flags, as a newcomer does, and times Load demo → last epoch.
 */
export async function trainFullRun({ page, baseUrl, log = console.log, engine = 'auto', epochs = 'auto', views = 8, seed, variants = ['unified', 'csc'], stopAfter }) {
  const query = FULL_QUERY[engine];
  if (query === undefined) throw new Error(`--engine=${engine}: use auto, cpu or gpu`);
  const results = {};
  for (const variant of variants) {
    const tOpen = Date.now();
    await page.goto(`${baseUrl}?e2e=1${query}#train`);
    const ep = await waitForModel(page);
    log(`  ${variant}: page open, model ready in ${((Date.now() - tOpen) / 1000).toFixed(1)} s; EP: ${await page.textContent('[data-testid="ep-badge"]')} (${await page.getAttribute('[data-testid="ep-badge"]', 'title')})`);
    const tDemo = Date.now();
    await loadDemo(page);
    // The panel remembers whether it was open (the previous variant opened it): open it only when closed.
    if (!(await page.isVisible('[data-testid="setting-views"]'))) await page.click('[data-testid="settings-more"]');
    if (epochs !== 'auto') {
      await page.selectOption('[data-testid="setting-epochs-mode"]', 'fixed');
      await setNumber(page, 'setting-epochs', epochs);
    }
    await setNumber(page, 'setting-views', views);
    if (seed !== undefined) await setNumber(page, 'setting-seed', seed);
    if (variant === 'csc') await page.check('[data-testid="setting-csc"]');
    const t0 = Date.now();
    await page.click('[data-testid="train"]');
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="run-stats"]')?.dataset.epochs) >= 1, null, { timeout: 1_800_000, polling: 1000 });
    const tFirst = Date.now();
    const badge = await page.$('[data-testid="engine-choice"]');
    if (badge) log(`  ${variant}: text engine ${await badge.getAttribute('data-engine')}: ${await badge.textContent()} (${await badge.getAttribute('title')})`);
    log(`  ${variant}: preparation + first epoch ${((tFirst - t0) / 1000).toFixed(1)} s; epochs: ${await page.textContent('[data-testid="stat-epoch"]')}`);
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="run-stats"]')?.dataset.epochs) >= 2, null, { timeout: 1_800_000, polling: 1000 });
    log(`  ${variant}: one epoch takes ${((Date.now() - tFirst) / 1000).toFixed(1)} s (steps/s ${await page.textContent('[data-testid="stat-sps"]')})`);
    if (stopAfter) {
      // A run too slow to finish: time `stopAfter` epochs after the first and extrapolate to the schedule's end.
      await page.waitForFunction((n) => Number(document.querySelector('[data-testid="run-stats"]')?.dataset.epochs) >= n, 1 + stopAfter, { timeout: 24 * 3600_000, polling: 1000 });
      const perEpoch = (Date.now() - tFirst) / 1000 / stopAfter;
      const total = Number((await page.textContent('[data-testid="stat-epoch"]')).split('/')[1]);
      const firstS = (tFirst - tDemo) / 1000;
      const estimate = firstS + perEpoch * (total - 1);
      log(`  ${variant}: EXTRAPOLATED: Load demo → first epoch ${firstS.toFixed(1)} s, then ${perEpoch.toFixed(1)} s per epoch over ${stopAfter} epochs → ${total} epochs ≈ ${estimate.toFixed(0)} s (${(estimate / 60).toFixed(1)} min)`);
      results[variant] = { timing: { extrapolated: true, first_epoch_from_load_demo_s: firstS, per_epoch_s: perEpoch, epochs: total, estimate_from_load_demo_s: estimate } };
      await page.click('[data-testid="stop"]');
      continue;
    }
    const status = await waitForStatus(page, ['done', 'failed'], 24 * 3600_000);
    if (status !== 'done') throw new Error(`${variant}: ${await page.textContent('[data-testid="run-error"]')}`);
    const table = await readComparison(page);
    const key = variant === 'csc' ? 'coop_csc' : 'coop_unified';
    results[variant] = table;
    const fmt = (m) => Object.entries(m ?? {}).map(([s, v]) => `${s} ${(100 * v).toFixed(1)}%`).join(', ');
    const tEnd = Date.now();
    log(`  ${variant}: ${((tEnd - t0) / 60000).toFixed(1)} min from Train, ${((tEnd - tDemo) / 1000).toFixed(1)} s from Load demo to the last epoch, ${await page.textContent('[data-testid="stat-epoch"]')} epochs`);
    table.timing = { ep, engine: await page.getAttribute('[data-testid="engine-badge"]', 'data-engine'), from_load_demo_s: (tEnd - tDemo) / 1000, from_train_s: (tEnd - t0) / 1000 };
    for (const k of ['zero_shot', 'ensemble', 'linear_probe', key]) log(`    ${k}: ${fmt(table[k])}`);
  }
  return results;
}

// CLI: node e2e/train-flow.mjs [--full] [--engine=auto|cpu|gpu|allgpu] [--stop-after=EPOCHS (time them, extrapolate)] [--epochs=N|auto] [--views=N] [--seed=N] [--csc=both|only|no] [--json=FILE]
if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name, fallback) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
  const { launchBrowser, openPage } = await import('./lib/browser.mjs');
  let baseUrl = process.env.BASE;
  let stop = async () => {};
  if (!baseUrl) {
    const { ensureBuild, startPreview, BASE_URL } = await import('./lib/server.mjs');
    const root = new URL('..', import.meta.url).pathname;
    ensureBuild(root);
    const server = await startPreview(root);
    stop = server.stop;
    baseUrl = BASE_URL;
  }
  const browser = await launchBrowser();
  const page = await openPage(browser.context, 'about:blank');
  let failed = false;
  try {
    if (process.argv.includes('--full')) {
      const csc = arg('csc', 'both');
      const variants = csc === 'only' ? ['csc'] : csc === 'no' ? ['unified'] : ['unified', 'csc'];
      const epochs = arg('epochs', 'auto');
      const seed = arg('seed');
      const stopAfter = arg('stop-after');
      const results = await trainFullRun({ page, baseUrl, stopAfter: stopAfter === undefined ? undefined : Number(stopAfter), engine: arg('engine', 'auto'), epochs: epochs === 'auto' ? 'auto' : Number(epochs), views: Number(arg('views', 8)), seed: seed === undefined ? undefined : Number(seed), variants });
      const json = arg('json');
      if (json) writeFileSync(json, JSON.stringify({ engine: arg('engine', 'auto'), epochs, seed: seed ?? 'default', results }, null, 1));
    } else await trainFlow({ page, baseUrl });
    console.log('PASS');
  } catch (e) {
    failed = true;
    console.log(`FAIL ${e.stack ?? e}\n  ${page.log.join('\n  ')}`);
  } finally {
    await browser.close();
    await stop();
  }
  process.exit(failed ? 1 : 0);
}
