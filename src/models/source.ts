/**
 * Where a model folder's files come from. Every host reads a model through one loader (src/models/load.ts),
 * and the loader reads files only through this interface, so the bundled folder (HTTP under the app's base
 * URL), a hub download, a folder picked from disk, the browser's own store (Cache Storage / OPFS) and a
 * directory in Node all look the same to it.
 *
 * Paths are relative to the folder root in the transformers.js layout, '/'-separated:
 * `config.json`, `preprocessor_config.json`, `tokenizer.json`, `onnx/text_model.onnx`,
 * `onnx/text_model_fp16.onnx`, `onnx/vision_model.onnx`, `onnx/vision_model_fp16.onnx`,
 * `onnx/vision_model_quantized.onnx`, and optionally our `manifest.json`.
 */

import { checkBytes } from '../input-limits';

export interface ReadOptions {
  /** Called with each chunk's byte count as it arrives (progress bars). */
  onBytes?: (delta: number) => void;
  signal?: AbortSignal;
  /**
   * The most bytes the caller accepts: a larger file is refused with a TooLargeError before its bytes are held
   * (by its declared size where the source knows it, else as the bytes arrive).
   */
  maxBytes?: number;
  /** Why the limit is what it is, for the message. */
  maxBytesAdvice?: string;
}

/** Refuses a file of `size` bytes over the reader's `maxBytes`; `file` is its display name. */
export function checkReadSize(file: string, size: number, options: ReadOptions): void {
  if (options.maxBytes !== undefined) checkBytes(file, size, options.maxBytes, options.maxBytesAdvice);
}

export type SourceKind = 'bundled' | 'hub' | 'folder' | 'stored' | 'disk';

export interface ModelSource {
  readonly kind: SourceKind;
  /**
   * The model's name as its origin gives it: the repo's last part (`clip-vit-base-patch32`) or the folder's
   * name. The loader derives the id from it where no manifest says otherwise.
   */
  readonly name: string;
  /** How a file is named in messages, e.g. `public/models/toy-clip/config.json` or a hub URL. */
  describe(path: string): string;
  /** Whether the file exists (a hub HEAD request, a directory lookup): lets the loader pick a dtype's file. */
  has(path: string, signal?: AbortSignal): Promise<boolean>;
  /** Byte size where known without reading the file; undefined when the source cannot tell. */
  size(path: string, signal?: AbortSignal): Promise<number | undefined>;
  /**
   * The file's bytes. A missing file throws ModelFileError(describe(path), 'is missing …'); other failures throw
   * ModelFileError naming the file and saying what to do. An abort rejects with the signal's reason.
   */
  read(path: string, options?: ReadOptions): Promise<Uint8Array>;
}
