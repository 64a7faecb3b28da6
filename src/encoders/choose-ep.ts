/**
 * Which execution provider the encoders run on, chosen by measurement (src/engine/choose-path.ts's rule): both
 * EPs open the model and encode one batch of images, and the faster one is kept. `?ep=wasm` / `?ep=webgpu` force
 * one without probing. A WebGPU EP that fails to open or run is a probe failure (the WASM EP is used), not an error.
 * Runs in the encoders' worker (encoders.worker.ts), on the worker's own GPUDevice.
 */
import { choosePath, forcedPath, timeProbe, type PathChoice, type PathRate } from '../engine/choose-path';
import { acquireGpuDevice } from '../gpu-device';
import type { Backend } from './backend';
import { createEncoders, type OrtEncoders } from './encoders';
import type { EncoderFiles } from './towers';

/** Images in the probe's batch: a few, so a slow EP costs seconds, not minutes (training encodes up to 32 at once). */
export const PROBE_BATCH = 8;
/** How long the slower EP may take before its probe stops (its rate then is an upper bound). */
const PROBE_CAP_MS = 4000;

export interface ChosenEncoders {
  encoders: OrtEncoders;
  choice: PathChoice;
}

const LABELS = { gpu: 'WebGPU EP', cpu: 'WASM EP' };

/** Random pixels (the rate does not depend on the values) for one probe batch. */
function probePixels(encoders: OrtEncoders, count: number): Float32Array {
  const px = new Float32Array(count * encoders.image.pixelsPerImage);
  let s = 12345;
  for (let i = 0; i < px.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    px[i] = (s / 2 ** 32) * 2 - 1;
  }
  return px;
}

function probe(encoders: OrtEncoders, capMs?: number) {
  const batch = probePixels(encoders, PROBE_BATCH);
  const one = batch.subarray(0, encoders.image.pixelsPerImage);
  let warm = false;
  return timeProbe(
    async () => {
      // The warm-up is one image (compiles the EP's kernels); the timed run is the whole batch.
      if (!warm) {
        warm = true;
        await encoders.image.encode(one, 1);
      } else await encoders.image.encode(batch, PROBE_BATCH);
    },
    { items: PROBE_BATCH, warmups: 1, capMs },
  );
}

/** Opens the model's encoders on the faster EP; `search` is the page's location.search. */
export async function chooseEncoders(model: EncoderFiles, search: string): Promise<ChosenEncoders> {
  const forced = forcedPath(new URLSearchParams(search).get('ep'));
  const by = `?ep=${new URLSearchParams(search).get('ep')}`;
  const wasm: Backend = { ep: 'wasm', reason: '' };
  if (forced === 'cpu') {
    const choice = choosePath({ labels: LABELS, unit: 'images/s', probe: `probe: a batch of ${PROBE_BATCH} images`, forced: { path: 'cpu', by }, rates: {} });
    return { encoders: await createEncoders(model, { ep: 'wasm', reason: choice.reason }), choice };
  }
  const acquired = await acquireGpuDevice();
  if (!acquired.ok) {
    const choice = choosePath({ labels: LABELS, unit: 'images/s', probe: `probe: a batch of ${PROBE_BATCH} images`, gpuUnavailable: acquired.reason, rates: {} });
    return { encoders: await createEncoders(model, { ep: 'wasm', reason: acquired.reason }), choice };
  }
  const gpuBackend: Backend = { ep: 'webgpu', gpu: acquired.gpu };
  if (forced === 'gpu') {
    const choice = choosePath({ labels: LABELS, unit: 'images/s', probe: `probe: a batch of ${PROBE_BATCH} images`, forced: { path: 'gpu', by }, adapter: acquired.gpu.description, rates: {} });
    return { encoders: await createEncoders(model, gpuBackend), choice };
  }

  // WASM first: it is quick everywhere, and its time bounds how long the WebGPU probe is worth waiting for.
  const cpuEncoders = await createEncoders(model, wasm);
  const cpuProbe = await probe(cpuEncoders);
  if (acquired.gpu.fallback) {
    // The rule picks WASM on a software adapter whatever a probe says; probing it would cost seconds (ORT compiles
    // its WebGPU kernels on the CPU), so the WebGPU EP is not opened at all.
    const note = 'not probed: software fallback adapter (?ep=webgpu forces it)';
    const choice = choosePath({ labels: LABELS, unit: 'images/s', probe: `probe: a batch of ${PROBE_BATCH} images`, fallbackAdapter: true, adapter: acquired.gpu.description, rates: { gpu: { note }, cpu: strip(cpuProbe) } });
    return { encoders: { ...cpuEncoders, backend: { ep: 'wasm', reason: choice.reason } }, choice };
  }
  let gpuEncoders: OrtEncoders | undefined;
  let gpuRate: PathRate;
  let gpuSettled: Promise<void> = Promise.resolve();
  try {
    gpuEncoders = await createEncoders(model, gpuBackend);
    const p = await probe(gpuEncoders, PROBE_CAP_MS);
    gpuSettled = p.settled;
    gpuRate = p;
  } catch (e) {
    gpuRate = { note: `could not open: ${(e as Error).message}` };
  }
  const choice = choosePath({
    labels: LABELS,
    unit: 'images/s', probe: `probe: a batch of ${PROBE_BATCH} images`,
    fallbackAdapter: acquired.gpu.fallback,
    adapter: acquired.gpu.description,
    rates: { gpu: strip(gpuRate), cpu: strip(cpuProbe) },
  });
  if (choice.choice === 'gpu' && gpuEncoders) {
    await cpuEncoders.release();
    return { encoders: gpuEncoders, choice };
  }
  // The loser is released once its probe's work is done (an ORT run cannot be cancelled).
  const loser = gpuEncoders;
  if (loser) void gpuSettled.then(() => loser.release()).catch(() => {});
  const encoders: OrtEncoders = { ...cpuEncoders, backend: { ep: 'wasm', reason: choice.reason } };
  return { encoders, choice };
}

function strip(r: PathRate): PathRate {
  const { perSecond, atMost, ms, note } = r;
  return { perSecond, atMost, ms, note };
}
