/// <reference lib="webworker" />
/**
 * The encoders' worker: onnxruntime-web and both CLIP towers, on the EP chosen here (choose-ep.ts) and, for the
 * WebGPU EP, on this worker's own GPUDevice. ORT's session creation and runs are long synchronous stretches of wasm;
 * here they block this worker, not the page. One worker holds one model's encoders; the page terminates it to
 * release them (which also hands back all of ORT's wasm memory, which a wasm heap never shrinks to otherwise).
 */
import { askOrtThreads } from './ort-env';
import { errorMessage } from '../worker/protocol';
import { onGpuDeviceLost } from '../gpu-device';
import { backendInfo } from './backend';
import { chooseEncoders } from './choose-ep';
import type { OrtEncoders } from './encoders';
import { owned, type EncodersReply, type EncodersRequest } from './worker-protocol';

const scope = self as unknown as DedicatedWorkerGlobalScope;
let encoders: OrtEncoders | null = null;

function post(reply: EncodersReply, transfer: Transferable[] = []): void {
  scope.postMessage(reply, transfer);
}

// gpu-device.ts words the message; the page hands it to its own listeners (model-store's deviceLost).
onGpuDeviceLost((message) => post({ type: 'device-lost', message }));

function opened(): OrtEncoders {
  if (!encoders) throw new Error('The encoders are not open (their model failed to load or was released)');
  return encoders;
}

type Answer = { reply: EncodersReply; transfer: Transferable[] };

async function handle(req: EncodersRequest): Promise<Answer> {
  const { id } = req;
  switch (req.type) {
    case 'open': {
      if (encoders) throw new Error('This encoders worker already holds a model; open another model in a new worker');
      // The page transferred the bytes: this worker holds the only copy, and drops it once the sessions exist.
      // ?ep-threads=N sets the WASM EP's threads (to compare; by default every core where the page is isolated).
      askOrtThreads(new URLSearchParams(req.search).get('ep-threads'));
      const chosen = await chooseEncoders(req.files, req.search);
      encoders = chosen.encoders;
      const reply: EncodersReply = { id, type: 'opened', backend: backendInfo(encoders.backend), choice: chosen.choice, hasLastHiddenState: encoders.text.hasLastHiddenState };
      return { reply, transfer: [] };
    }
    case 'encode-images': {
      const e = owned(await opened().image.encode(req.pixels, req.count));
      return { reply: { id, type: 'embeds', embeds: e.view }, transfer: e.transfer };
    }
    case 'encode-ids': {
      const text = opened().text;
      if (!req.withHidden) {
        const e = owned(await text.encodeIds(req.ids, req.rows));
        return { reply: { id, type: 'embeds', embeds: e.view }, transfer: e.transfer };
      }
      const r = await text.encodeIdsWithHidden(req.ids, req.rows);
      const e = owned(r.embeds);
      const h = owned(r.lastHiddenState);
      return { reply: { id, type: 'embeds', embeds: e.view, lastHiddenState: h.view }, transfer: [...e.transfer, ...h.transfer] };
    }
    case 'release': {
      await opened()[req.tower].release();
      return { reply: { id, type: 'released' }, transfer: [] };
    }
  }
}

scope.onmessage = (e: MessageEvent<EncodersRequest>) => {
  const { id } = e.data;
  handle(e.data).then(
    ({ reply, transfer }) => post(reply, transfer),
    (err: unknown) => post({ id, type: 'error', message: errorMessage(err) }),
  );
};
