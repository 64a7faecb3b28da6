/**
 * Messages between the page and the encoders' worker (encoders.worker.ts), which owns onnxruntime-web and both
 * towers' sessions so session creation, the EP probe and every run stay off the page's main thread.
 *
 * Big buffers move, they are not copied: the model bytes and the pixel batches go to the worker, the embeddings come
 * back, each transferred (the sender's view is detached afterwards). Requests carry an id; the reply with that id
 * settles them. A lost GPU device is announced without one.
 */
import type { PathChoice } from '../engine/choose-path';
import type { BackendInfo } from './backend';
import type { EncoderFiles } from './towers';

export type EncodersRequest =
  | { id: number; type: 'open'; files: EncoderFiles; search: string }
  | { id: number; type: 'encode-images'; pixels: Float32Array; count: number }
  | { id: number; type: 'encode-ids'; ids: Int32Array; rows: number; withHidden: boolean }
  | { id: number; type: 'release'; tower: 'text' | 'image' };

export type EncodersReply =
  | { id: number; type: 'opened'; backend: BackendInfo; choice: PathChoice; hasLastHiddenState: boolean }
  | { id: number; type: 'embeds'; embeds: Float32Array; lastHiddenState?: Float32Array }
  | { id: number; type: 'released' }
  | { id: number; type: 'error'; message: string }
  | { type: 'device-lost'; message: string };

/** A request without its id, as the client's callers build it. */
export type EncodersCall = EncodersRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/**
 * `view` as one that owns its whole buffer (itself when it already does, else a copy of its part), with that buffer
 * to transfer. Transferring the buffer of a view into a larger one would detach data the sender still uses.
 */
export function owned<T extends Uint8Array | Float32Array | Int32Array>(view: T): { view: T; transfer: ArrayBuffer[] } {
  const { buffer } = view;
  // A SharedArrayBuffer cannot be transferred; cloning it shares it instead.
  if (!(buffer instanceof ArrayBuffer)) return { view, transfer: [] };
  if (view.byteOffset === 0 && view.byteLength === buffer.byteLength) return { view, transfer: [buffer] };
  const copy = view.slice() as T;
  return { view: copy, transfer: [copy.buffer as ArrayBuffer] };
}
