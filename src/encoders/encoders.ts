/** Opens both towers on one backend: the encoders' worker's side (the page talks to them through encoders-client.ts). */
import type { Backend } from './backend';
import { ClipImageEncoder } from './image-encoder';
import { ClipTextEncoder } from './text-encoder';
import type { EncoderFiles } from './towers';

export type { Encoders } from './towers';

/** Both towers as ORT sessions, with the backend's adapter and device (which never leave the worker). */
export interface OrtEncoders {
  backend: Backend;
  text: ClipTextEncoder;
  image: ClipImageEncoder;
  release(): Promise<void>;
}

/** Opens both towers of a model on one backend. */
export async function createEncoders(files: EncoderFiles, backend: Backend): Promise<OrtEncoders> {
  // One after the other: two sessions compiling at once on WASM only compete for the same threads.
  const text = await ClipTextEncoder.create(files.text, backend);
  let image: ClipImageEncoder;
  try {
    image = await ClipImageEncoder.create(files.image, backend);
  } catch (e) {
    await text.release();
    throw e;
  }
  return {
    backend,
    text,
    image,
    release: async () => {
      await Promise.all([text.release(), image.release()]);
    },
  };
}
