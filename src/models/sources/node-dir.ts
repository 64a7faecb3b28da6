/** A model folder on the local disk, for Node hosts (scripts, bench, the command line). */
import { existsSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { ModelFileError } from '../errors';
import { checkReadSize, type ModelSource, type ReadOptions } from '../source';

const CHUNK = 16 << 20;

/** `dir` as given on the command line; messages name files relative to the working directory where shorter. */
export function nodeDirSource(dir: string): ModelSource {
  const root = resolve(dir);
  const describe = (path: string) => {
    const abs = join(root, ...path.split('/'));
    const rel = relative(process.cwd(), abs);
    return rel && !rel.startsWith('..') ? rel : abs;
  };
  const abs = (path: string) => join(root, ...path.split('/'));
  return {
    kind: 'disk',
    name: basename(root),
    describe,
    async has(path) {
      return existsSync(abs(path)) && statSync(abs(path)).isFile();
    },
    async size(path) {
      return existsSync(abs(path)) ? statSync(abs(path)).size : undefined;
    },
    async read(path, options: ReadOptions = {}) {
      if (!existsSync(abs(path))) {
        throw new ModelFileError(describe(path), `is missing; put the file there in the transformers.js layout, or pick another folder`);
      }
      // Read in chunks so progress moves and an abort stops a 300 MB read midway.
      // A FIFO or a device would block the read or never end: only regular files are read.
      const st = statSync(abs(path));
      if (!st.isFile()) throw new ModelFileError(describe(path), 'is not a regular file (a device, a FIFO or a folder); put the file itself there');
      checkReadSize(describe(path), st.size, options);
      const handle = await open(abs(path), 'r');
      try {
        const { size } = await handle.stat();
        const out = new Uint8Array(size);
        let offset = 0;
        while (offset < size) {
          options.signal?.throwIfAborted();
          const { bytesRead } = await handle.read(out, offset, Math.min(CHUNK, size - offset), offset);
          if (bytesRead === 0) break;
          offset += bytesRead;
          options.onBytes?.(bytesRead);
        }
        return offset === size ? out : out.subarray(0, offset);
      } catch (e) {
        if (options.signal?.aborted) throw e;
        throw new ModelFileError(describe(path), `could not be read (${(e as Error).message}); check the file's permissions`);
      } finally {
        await handle.close();
      }
    },
  };
}
