import type { InferenceSession } from 'onnxruntime-web/webgpu';
import type { Backend } from './backend';
import { rowsOf } from './check-output';
import { configureOrt } from './ort-env';
import { enqueueRun } from './run-queue';
import { createSession } from './session';

export interface ImageEncoderSpec {
  bytes: Uint8Array;
  /** Display path of vision_model.onnx, for messages. */
  file: string;
  imageSize: number;
  embedDim: number;
}

/** CLIP's image tower on ORT: pixel_values [B, 3, S, S] → image_embeds [B, D] (not normalised). */
export class ClipImageEncoder {
  private constructor(
    private readonly session: InferenceSession,
    readonly spec: Omit<ImageEncoderSpec, 'bytes'>,
  ) {}

  static async create(spec: ImageEncoderSpec, backend: Backend): Promise<ClipImageEncoder> {
    const session = await createSession(spec.bytes, spec.file, backend, { input: 'pixel_values', output: 'image_embeds' });
    const { bytes: _bytes, ...rest } = spec;
    return new ClipImageEncoder(session, rest);
  }

  get pixelsPerImage(): number {
    return 3 * this.spec.imageSize * this.spec.imageSize;
  }

  /** Embeds `count` images laid out back to back in `pixels`; returns count × embedDim floats. */
  async encode(pixels: Float32Array, count: number): Promise<Float32Array> {
    const { imageSize: s, embedDim, file } = this.spec;
    if (pixels.length !== count * this.pixelsPerImage) {
      throw new Error(`Image batch has ${pixels.length} floats, expected ${count} × 3 × ${s} × ${s}`);
    }
    const ort = configureOrt();
    const input = new ort.Tensor('float32', pixels, [count, 3, s, s]);
    return enqueueRun(async () => {
      const out = await this.session.run({ pixel_values: input }, ['image_embeds']);
      // Copied because ORT may reuse an output's buffer once the tensor is disposed.
      const embeds = rowsOf(out.image_embeds, 'image_embeds', count, embedDim, file).slice();
      out.image_embeds.dispose();
      return embeds;
    });
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
