// End-to-end run: the production build in Chromium (WebGPU on SwiftShader), checked against
// onnxruntime-node. Plain Node: `npm run e2e` (builds first only if dist/ is missing).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';
import { launchBrowser } from './lib/browser.mjs';
import { createReference } from './lib/reference.mjs';
import { BASE_URL, ensureBuild, startPreview } from './lib/server.mjs';

// The reference and the tests import some of the project's TypeScript (tokenizer, templates).
register();
const { inputErrors, modelFileErrors } = await import('./tests/errors.mjs');
const { wasmPredictions, webgpuPredictions } = await import('./tests/predictions.mjs');
const { trainData } = await import('./tests/train-data.mjs');
const { hubModels } = await import('./tests/hub-models.mjs');

const TESTS = [
  ['WebGPU EP: predictions (one template and ensemble) equal onnxruntime-node, sample accuracy', webgpuPredictions],
  ['WASM EP (?ep=wasm): predictions (one template and ensemble) equal onnxruntime-node, sample accuracy', wasmPredictions],
  ['input: drag-and-drop; errors for a non-image file, duplicate, single and over-long class names', inputErrors],
  ['model file errors name the file', modelFileErrors],
  ['train data: add and name classes, drop files (picture, text, huge), paste, delete, duplicate name, unusable files named, webcam prediction, overflowing lr fails and resumes', trainData],
  ['add a model from the hub by repo id (progress, dropped connection resumed), reload with the hub stopped, train 1 epoch on 3 classes, export/import; same folder via the folder picker; Remove', hubModels],
  ['train (CoOp): demo, a few epochs on the WGSL engine in the worker, export, reload, import, import errors', (a) => import('./train-flow.mjs').then((m) => m.trainFlowTest(a))],
];

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const only = process.argv.slice(2);
let passed = 0;
let failed = 0;
let server;
let browser;
try {
  ensureBuild(root);
  server = await startPreview(root);
  browser = await launchBrowser();
  const reference = await createReference(root, BASE_URL);
  for (const [name, test] of TESTS) {
    if (only.length && !only.some((o) => name.toLowerCase().includes(o.toLowerCase()))) continue;
    await server.ensure();
    const started = Date.now();
    const lines = [];
    try {
      await test({ context: browser.context, reference, root, log: (l) => lines.push(l) });
      passed++;
      console.log(`ok   ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${name}\n  ${e.stack ?? e}`);
    }
    for (const l of lines) console.log(l);
  }
} catch (e) {
  failed++;
  console.log(`FAIL setup\n  ${e.stack ?? e}`);
} finally {
  // The server is stopped even when closing the browser fails, so the port is free for the next run.
  await browser?.close().catch((e) => console.log(`e2e: closing the browser failed: ${e.message}`));
  await server?.stop();
}
console.log(`e2e: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
