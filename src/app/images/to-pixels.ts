import type { PreprocessConfig } from '../../preprocess';
import type { PreprocessReply, PreprocessRequest } from './preprocess.worker';

let worker: Worker | null = null;
let nextId = 1;
const waiting = new Map<number, { resolve: (p: Float32Array) => void; reject: (e: Error) => void }>();

function getWorker(): Worker {
  if (worker) return worker;
  worker = new Worker(new URL('./preprocess.worker.ts', import.meta.url), { type: 'module' });
  worker.onmessage = ({ data }: MessageEvent<PreprocessReply>) => {
    const pending = waiting.get(data.id);
    waiting.delete(data.id);
    if (!pending) return;
    if ('pixels' in data) pending.resolve(data.pixels);
    else pending.reject(new Error(data.error));
  };
  worker.onerror = (e) => {
    // A worker that fails to start would otherwise leave every image "encoding…" forever.
    for (const p of waiting.values()) p.reject(new Error(`The image worker failed: ${e.message}`));
    waiting.clear();
    worker = null;
  };
  return worker;
}

/** File → the model's input tensor for one image ([3, S, S] floats), decoded and resized off the page's thread. */
export function makeToPixels(cfg: PreprocessConfig) {
  return (blob: Blob, name = (blob as Partial<File>).name ?? 'The file'): Promise<Float32Array> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve, reject });
      getWorker().postMessage({ id, blob, name, cfg } satisfies PreprocessRequest);
    });
}
