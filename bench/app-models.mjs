/**
 * The app itself in headless Chromium, the bundled toy model next to the ViT-B/32-sized stand-in added from the
 * local hub stand-in: download and load time, memory (page and worker, performance.measureUserAgentSpecificMemory;
 * page JS heap from CDP Performance.getMetrics), image encoding rate at the model's size (WebGPU EP and WASM EP,
 * the zero-shot page), and a training step 's time (WGSL engine and CPU twin, ?engine=) at K = 3 and K = 10.
 * Numbers only; nothing is asserted. Slow on SwiftShader (tens of minutes for the stand-in):
 *
 *   npm run build && E2E_PORT=4182 node bench/app-models.mjs [--models toy,standin] [--images 4] [--k 3,10] [--steps 2]
 *     [--eps webgpu,wasm] [--ep-threads 1,2] [--engines webgpu,cpu,reference]
 *
 * It prints one JSON line per measurement and writes them all to bench/out/app-models.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';
import { waitForModel, waitForResults, waitForStatus } from '../e2e/lib/app.mjs';
import { launchBrowser, openPage } from '../e2e/lib/browser.mjs';
import { startHubServer } from '../e2e/lib/hub-server.mjs';
import { BASE_URL, ensureBuild, startPreview } from '../e2e/lib/server.mjs';

register();
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const MODELS = arg('models', 'toy,standin').split(',');
const IMAGES = Number(arg('images', 4));
const KS = arg('k', '3,10').split(',').map(Number);
const STEPS = Number(arg('steps', 2));
const EPS = arg('eps', 'webgpu,wasm').split(',').filter(Boolean);
// WASM EP threads to compare (?ep-threads=N); empty: the app's own choice (every core where isolated).
const EP_THREADS = arg('ep-threads', '').split(',').filter(Boolean).map(Number);
const ENGINES = arg('engines', 'webgpu,cpu').split(',').filter(Boolean);
const CLASSES = ['disc', 'box', 'wedge', 'sparkle', 'plus', 'donut', 'valentine', 'kite'];
const results = [];
const record = (row) => {
  results.push(row);
  console.log(JSON.stringify(row));
};
const mb = (b) => Math.round((b / 1024 ** 2) * 10) / 10;

async function memory(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const { metrics } = await cdp.send('Performance.getMetrics');
  await cdp.detach();
  const heap = metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? 0;
  // Cross-origin isolated pages may ask for their own memory, workers included (resolved at the next GC).
  const uasm = await page.evaluate(async () => {
    if (!performance.measureUserAgentSpecificMemory) return null;
    const m = await performance.measureUserAgentSpecificMemory();
    const by = {};
    for (const b of m.breakdown) {
      const scope = b.attribution?.[0]?.scope ?? (b.types.join('+') || 'other');
      by[scope] = (by[scope] ?? 0) + b.bytes;
    }
    return { total: m.bytes, by };
  });
  return {
    page_js_heap_mb: mb(heap),
    uasm_total_mb: uasm ? mb(uasm.total) : null,
    uasm_by_scope_mb: uasm ? Object.fromEntries(Object.entries(uasm.by).map(([k, v]) => [k, mb(v)])) : null,
  };
}

/**
 * The page's responsiveness while a model loads: the main thread's long tasks (over 50 ms, the Long Tasks API),
 * collected from the first script on. The longest one is how long a click could wait. The `encoders_open_*` fields
 * count only the tasks that overlap the encoders' opening (session creation and the EP probe, between the app's
 * `coop:encoders-open` and `coop:encoders-ready` marks), leaving out the page's own start-up (parsing the bundle,
 * the first render, the tokenizer), which a cold first page pays most.
 */
function watchLongTasks() {
  window.__longTasks = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__longTasks.push({ start: e.startTime, ms: e.duration });
  }).observe({ type: 'longtask', buffered: true });
}
const longTasks = (page) =>
  page.evaluate(() => {
    const t = window.__longTasks ?? [];
    const stats = (tasks, prefix) => ({
      [`${prefix}longest_task_ms`]: tasks.length ? Math.round(Math.max(...tasks.map((x) => x.ms))) : 0,
      [`${prefix}long_tasks`]: tasks.length,
      [`${prefix}blocked_ms`]: Math.round(tasks.reduce((a, x) => a + x.ms, 0)),
    });
    const open = performance.getEntriesByName('coop:encoders-open').at(-1);
    const ready = performance.getEntriesByName('coop:encoders-ready').at(-1);
    const during = open && ready ? t.filter((x) => x.start < ready.startTime && x.start + x.ms > open.startTime) : [];
    return {
      ...stats(t, 'main_thread_'),
      encoders_open_ms: open && ready ? Math.round(ready.startTime - open.startTime) : null,
      ...stats(during, 'encoders_open_'),
    };
  });

async function load(context, model, query, hash = 'zero-shot') {
  // Each measurement starts from an empty session: a restored one would bring the previous page's classes and
  // images (encoded again on load) into this one.
  await freshSession(context);
  const t = Date.now();
  const page = await openPage(context, `${BASE_URL}?e2e=1${query}${model.query}#${hash}`);
  await waitForModel(page, 1_800_000);
  return { page, seconds: (Date.now() - t) / 1000, ...(await longTasks(page)) };
}

async function encodeRate(context, model, ep, threads) {
  const { page, ...loaded } = await load(context, model, `&ep=${ep}${threads ? `&ep-threads=${threads}` : ''}`);
  const mem = await memory(page);
  const epThreads = await page.evaluate(() => document.querySelector('[data-testid="ep-badge"]')?.textContent ?? null);
  record({ model: model.name, what: 'load', ep, ...(threads ? { ep_threads: threads } : {}), status: epThreads, ...loaded, ...mem });
  await page.fill('[data-testid="classes"]', CLASSES.slice(0, 3).join('\n'));
  const files = CLASSES.slice(0, IMAGES).map((c) => join(root, `public/samples/test/${c}/000.jpg`));
  const t = Date.now();
  await page.setInputFiles('[data-testid="file-input"]', files);
  await waitForResults(page, files.length, 3_600_000);
  const s = (Date.now() - t) / 1000;
  record({ model: model.name, what: 'encode', ep, ...(threads ? { ep_threads: threads } : {}), images: files.length, seconds: s, images_per_s: files.length / s });
  await page.close();
}

/**
 * Forgets the saved session (IndexedDB), keeping the stored models (OPFS): the Train page restores the last session
 * on load, and the classes this script adds would then come on top of the previous page's (duplicate names).
 */
async function freshSession(context) {
  const p = await context.newPage();
  const cdp = await context.newCDPSession(p);
  await cdp.send('Storage.clearDataForOrigin', { origin: new URL(BASE_URL).origin, storageTypes: 'indexeddb' });
  await cdp.detach();
  await p.close();
}

/** One page per engine; the classes grow from one K to the next (a new setup, the same loaded model). */
async function trainSteps(context, model, engine) {
  // ?engine= forces either engine (by default the app measures both and picks; on SwiftShader it picks the twin).
  const { page } = await load(context, model, `&ep=wasm&engine=${engine}`, 'train');
  let have = 0;
  let opened = false;
  for (const k of KS) {
    // Disabled while a run is still settling (its last evaluation on a slow engine can take minutes).
    await page.waitForSelector('[data-testid="add-class"]:not([disabled])', { timeout: 3_600_000 });
    for (; have < k; have++) {
      await page.click('[data-testid="add-class"]');
      const c = CLASSES[have % CLASSES.length];
      await page.locator('[data-testid="class-card"] input[aria-label="Class name"]').nth(have).fill(have < CLASSES.length ? c : `${c} again`);
      await page
        .locator('[data-testid="class-card"]')
        .nth(have)
        .locator('[data-testid="file-input-train"]')
        .setInputFiles([join(root, `public/samples/train/${c}/000.jpg`), join(root, `public/samples/train/${c}/001.jpg`)]);
    }
    if (!opened) {
      await page.click('[data-testid="settings-more"]');
      await page.selectOption('[data-testid="setting-epochs-mode"]', 'fixed');
      await page.fill('[data-testid="setting-epochs"]', String(STEPS));
      await page.fill('[data-testid="setting-views"]', '1');
      opened = true;
    }
    await page.click('[data-testid="train"]');
    const status = await waitForStatus(page, ['done', 'failed'], 3_600_000);
    // The unrounded rate (the text shows two decimals: 0.03 steps/s could be anything from 25 to 40 s a step).
    const sps = Number((await page.getAttribute('[data-testid="stat-sps"]', 'data-sps')) ?? (await page.textContent('[data-testid="stat-sps"]')));
    const badge = await page.$('[data-testid="engine-badge"]');
    const mem = await memory(page);
    const gpu = await page.$('[data-testid="stat-gpu-memory"]');
    record({
      model: model.name,
      what: 'train-step',
      gpu_buffers_peak_mb: gpu ? mb(Number(await gpu.getAttribute('data-peak-bytes'))) : null,
      gpu_buffers_live_mb: gpu ? mb(Number(await gpu.getAttribute('data-live-bytes'))) : null,
      engine,
      engine_detail: badge ? `${await badge.getAttribute('data-engine')}: ${await badge.getAttribute('title')}` : null,
      k,
      status,
      steps: Number(await page.getAttribute('[data-testid="run-stats"]', 'data-steps')),
      step_ms: sps > 0 ? Math.round(1000 / sps) : null,
      ...mem,
    });
  }
  await page.close();
}

ensureBuild(root);
const server = await startPreview(root);
const launched = await launchBrowser();
await launched.context.addInitScript(watchLongTasks);
let hub;
let cleaned = false;
async function cleanup() {
  if (cleaned) return;
  cleaned = true;
  mkdirSync(join(root, 'bench/out'), { recursive: true });
  writeFileSync(join(root, 'bench/out/app-models.json'), JSON.stringify(results, null, 1));
  await hub?.stop();
  await launched.close();
  await server.stop();
}
// A run stopped by hand (or by `timeout`) still closes Chromium and the servers and keeps what it measured.
for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => void cleanup().finally(() => process.exit(130)));
try {
  const models = [];
  if (MODELS.includes('toy')) models.push({ name: 'toy-clip (bundled)', query: '&model=toy-clip' });
  if (MODELS.includes('standin')) {
    const { ensureStandin } = await import('../tools/clip-standin/standin.ts');
    const dir = ensureStandin('vit-b32');
    const name = basename(dir);
    hub = await startHubServer({ repos: { [`bench/${name}`]: dir }, port: Number(process.env.E2E_HUB_PORT ?? 0) });
    const page = await openPage(launched.context, `${BASE_URL}?e2e=1&ep=wasm#zero-shot`);
    await waitForModel(page);
    await page.click('[data-testid="add-model-open"]');
    await page.fill('[data-testid="add-repo"]', `bench/${name}`);
    await page.fill('[data-testid="add-endpoint"]', hub.endpoint);
    await page.selectOption('[data-testid="add-text-dtype"]', 'fp16');
    const t = Date.now();
    await page.click('[data-testid="add-download"]');
    await page.waitForSelector('[data-testid="add-model"]', { state: 'detached', timeout: 1_800_000 });
    const downloaded = (Date.now() - t) / 1000;
    const total = await page.$eval('[data-testid="stored-option"]', (e) => e.textContent);
    await waitForModel(page, 1_800_000);
    record({ model: name, what: 'add from local hub (fp16 text, fp32 image) + first load', download_s: downloaded, download_and_load_s: (Date.now() - t) / 1000, stored: total });
    await page.close();
    await hub.stop();
    hub = null;
    models.push({ name, query: `&model=${name}` });
  }
  for (const model of models) {
    for (const ep of EPS) for (const threads of EP_THREADS.length && ep === 'wasm' ? EP_THREADS : [0]) await encodeRate(launched.context, model, ep, threads);
    for (const engine of ENGINES) await trainSteps(launched.context, model, engine);
  }
} finally {
  await cleanup();
}
