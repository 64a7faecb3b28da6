import type { ModelFolder } from '../models/load';
import type { Backend } from './backend';
import { ClipImageEncoder } from './image-encoder';
import { ClipTextEncoder } from './text-encoder';

export interface Encoders {
  backend: Backend;
  text: ClipTextEncoder;
  image: ClipImageEncoder;
  release(): Promise<void>;
}

/** Opens both towers of a loaded model folder on one backend. */
export async function createEncoders(model: ModelFolder, backend: Backend): Promise<Encoders> {
  const { manifest } = model;
  // One after the other: two sessions compiling at once on WASM only compete for the same threads.
  const text = await ClipTextEncoder.create(
    {
      bytes: model.textModel,
      file: model.textFile.file,
      contextLength: manifest.context_length ?? 77,
      embedDim: manifest.embed_dim,
    },
    backend,
  );
  let image: ClipImageEncoder;
  try {
    image = await ClipImageEncoder.create(
      {
        bytes: model.visionModel,
        file: model.visionFile.file,
        imageSize: manifest.image_size,
        embedDim: manifest.embed_dim,
      },
      backend,
    );
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
