/**
 * What the page sees of CLIP's two towers. The towers themselves (ORT sessions) live in the encoders' worker
 * (encoders.worker.ts); the page holds proxies with this shape (encoders-client.ts), so its callers do not care
 * where ORT runs. Nothing here imports onnxruntime-web: the page bundle does not carry it.
 */
import type { ModelFolder } from '../models/load';
import type { BackendInfo } from './backend';
import type { ImageEncoderSpec } from './image-encoder';
import type { TextEncoderSpec, TextEncoding } from './text-encoder';

export interface TextTower {
  readonly spec: Omit<TextEncoderSpec, 'bytes'>;
  readonly hasLastHiddenState: boolean;
  /** `ids` holds `rows` rows of contextLength token ids each, as the tokenizer's tokenize() makes them. */
  encodeIds(ids: Int32Array, rows: number): Promise<Float32Array>;
  encodeIdsWithHidden(ids: Int32Array, rows: number): Promise<Required<TextEncoding>>;
  release(): Promise<void>;
}

export interface ImageTower {
  readonly spec: Omit<ImageEncoderSpec, 'bytes'>;
  readonly pixelsPerImage: number;
  /**
   * Embeds `count` images laid out back to back in `pixels`; returns count × embedDim floats. Through the worker
   * the pixels' buffer is transferred, not copied: the caller must not read `pixels` afterwards.
   */
  encode(pixels: Float32Array, count: number): Promise<Float32Array>;
  release(): Promise<void>;
}

/** Both towers of one model on one backend. */
export interface Encoders {
  backend: BackendInfo;
  text: TextTower;
  image: ImageTower;
  release(): Promise<void>;
}

/** Both towers' files and the manifest fields they are opened with. */
export interface EncoderFiles {
  text: TextEncoderSpec;
  image: ImageEncoderSpec;
}

/** The tower files of a loaded model folder (its ONNX bytes, not copied). */
export function encoderFiles(model: ModelFolder): EncoderFiles {
  const { manifest } = model;
  return {
    text: { bytes: model.textModel, file: model.textFile.file, contextLength: manifest.context_length ?? 77, embedDim: manifest.embed_dim },
    image: { bytes: model.visionModel, file: model.visionFile.file, imageSize: manifest.image_size, embedDim: manifest.embed_dim },
  };
}
