import { test } from '../lib/fixtures.mjs';
import { inputErrors, modelFileErrors } from '../tests/errors.mjs';
import { wasmPredictions, webgpuPredictions } from '../tests/predictions.mjs';

test('WebGPU EP (?ep=webgpu): predictions (one template and ensemble) equal onnxruntime-node (the demo splits with E2E_WEBGPU_ALL_SPLITS=1)', async ({ context, reference, root, log }) => {
  await webgpuPredictions({ context, reference, root, log });
});

test('WASM EP (?ep=wasm): predictions (one template and ensemble) equal onnxruntime-node, sample accuracy', async ({ context, reference, root, log }) => {
  await wasmPredictions({ context, reference, root, log });
});

test('input: drag-and-drop; errors for a non-image file, duplicate, single and over-long class names', async ({ context }) => {
  await inputErrors({ context });
});

test('model file errors name the file', async ({ context }) => {
  await modelFileErrors({ context });
});
