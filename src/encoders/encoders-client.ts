/**
 * The page's side of the encoders' worker (encoders.worker.ts): opens a model's towers there and hands back
 * proxies with the Encoders shape (towers.ts), each call one message. ORT never runs on the page's main thread, so
 * the page stays responsive while a model's sessions are created, the EPs are probed and images are encoded.
 */
import type { PathChoice } from '../engine/choose-path';
import { reportGpuDeviceLost } from '../gpu-device';
import type { ModelFolder } from '../models/load';
import { encoderFiles, type Encoders, type ImageTower, type TextTower } from './towers';
import { owned, type EncodersCall, type EncodersReply, type EncodersRequest } from './worker-protocol';

type Settled = Exclude<EncodersReply, { type: 'device-lost' } | { type: 'error' }>;
type ReplyOf<T extends Settled['type']> = Extract<Settled, { type: T }>;

/** One worker, one model: requests by id; terminating it releases everything the model held there. */
class EncodersWorker {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: Settled) => void; reject: (e: Error) => void }>();
  private closed: string | null = null;

  constructor() {
    this.worker = new Worker(new URL('./encoders.worker.ts', import.meta.url), { type: 'module', name: 'coop-encoders' });
    this.worker.onmessage = (e: MessageEvent<EncodersReply>) => this.dispatch(e.data);
    this.worker.onerror = (e) => {
      e.preventDefault();
      this.close(`The encoders' worker failed: ${e.message || 'unknown error'}`);
    };
  }

  private dispatch(reply: EncodersReply): void {
    if (reply.type === 'device-lost') {
      // The sessions on that device are gone; the page's listeners (model-store) drop the model as before.
      if (!this.closed) reportGpuDeviceLost(reply.message);
      return;
    }
    const waiter = this.pending.get(reply.id);
    if (!waiter) return;
    this.pending.delete(reply.id);
    if (reply.type === 'error') waiter.reject(new Error(reply.message));
    else waiter.resolve(reply);
  }

  /** Posts `call` (transferring `transfer`) and resolves with its reply of type `type`. */
  async call<T extends Settled['type']>(call: EncodersCall, type: T, transfer: Transferable[] = []): Promise<ReplyOf<T>> {
    if (this.closed) throw new Error(this.closed);
    const id = this.nextId++;
    const reply = await new Promise<Settled>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...call, id } as EncodersRequest, transfer);
    });
    if (reply.type !== type) throw new Error(`The encoders' worker answered ${reply.type} to ${call.type}`);
    return reply as ReplyOf<T>;
  }

  /** Stops the worker (a run in progress cannot be cancelled otherwise); calls still waiting fail with `why`. */
  close(why: string): void {
    if (this.closed) return;
    this.closed = why;
    this.worker.terminate();
    for (const w of this.pending.values()) w.reject(new Error(why));
    this.pending.clear();
  }
}

export interface OpenedEncoders {
  encoders: Encoders;
  /** Both EPs' probe rates and the reason for the choice, as the worker measured them. */
  choice: PathChoice;
}

/**
 * Opens a loaded model's towers in a new worker, on the EP it chooses there (`search` is the page's
 * location.search, for `?ep=`). The model's ONNX bytes are transferred: afterwards `model.textModel` and
 * `model.visionModel` are empty on the page, which no longer holds a copy of either tower.
 */
export async function openEncoders(model: ModelFolder, search: string): Promise<OpenedEncoders> {
  const files = encoderFiles(model);
  const text = owned(files.text.bytes);
  const image = owned(files.image.bytes);
  const worker = new EncodersWorker();
  let opened: ReplyOf<'opened'>;
  try {
    opened = await worker.call(
      { type: 'open', files: { text: { ...files.text, bytes: text.view }, image: { ...files.image, bytes: image.view } }, search },
      'opened',
      [...new Set([...text.transfer, ...image.transfer])],
    );
  } catch (e) {
    worker.close('The encoders could not be opened');
    throw e;
  }
  const { bytes: _t, ...textSpec } = files.text;
  const { bytes: _i, ...imageSpec } = files.image;

  const encodeText = async (ids: Int32Array, rows: number, withHidden: boolean) =>
    // Token ids are small (77 ints a row) and callers may keep them: copied, not transferred.
    worker.call({ type: 'encode-ids', ids, rows, withHidden }, 'embeds');
  const textTower: TextTower = {
    spec: textSpec,
    hasLastHiddenState: opened.hasLastHiddenState,
    encodeIds: async (ids, rows) => (await encodeText(ids, rows, false)).embeds,
    encodeIdsWithHidden: async (ids, rows) => {
      const r = await encodeText(ids, rows, true);
      if (!r.lastHiddenState) throw new Error(`${textSpec.file} has no last_hidden_state output`);
      return { embeds: r.embeds, lastHiddenState: r.lastHiddenState };
    },
    release: async () => void (await worker.call({ type: 'release', tower: 'text' }, 'released')),
  };
  const pixelsPerImage = 3 * imageSpec.imageSize * imageSpec.imageSize;
  const imageTower: ImageTower = {
    spec: imageSpec,
    pixelsPerImage,
    encode: async (pixels, count) => {
      const p = owned(pixels);
      return (await worker.call({ type: 'encode-images', pixels: p.view, count }, 'embeds', p.transfer)).embeds;
    },
    release: async () => void (await worker.call({ type: 'release', tower: 'image' }, 'released')),
  };
  const encoders: Encoders = {
    backend: opened.backend,
    text: textTower,
    image: imageTower,
    release: async () => worker.close('The encoders were released (another model was selected, or the page moved on)'),
  };
  return { encoders, choice: opened.choice };
}
