import { test } from '../lib/fixtures.mjs';
import { trainFlowTest } from '../train-flow.mjs';

test('train (CoOp): demo, a few epochs on the WGSL engine in the worker, GPU crash and Resume, export, reload, import, import errors', async ({ context, log }) => {
  // The WGSL engine on SwiftShader: a few minutes here, more on a busy machine.
  test.setTimeout(40 * 60_000);
  await trainFlowTest({ context, log });
});
