/**
 * A file on disk as a download's sink (Node only: `npm run models:fetch` and tests). An interrupted download is
 * kept as `<file>.part` and continued from its size; the finished file is renamed into place, so a half file is
 * never taken for a whole one.
 */
import { mkdir, open, rename, stat, truncate } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { FileSink, SinkWriter } from './hub';

export class NodeFileSink implements FileSink {
  constructor(readonly path: string) {}

  get partPath(): string {
    return `${this.path}.part`;
  }

  async existing(): Promise<number> {
    try {
      return (await stat(this.partPath)).size;
    } catch {
      return 0;
    }
  }

  async open(offset: number): Promise<SinkWriter> {
    await mkdir(dirname(this.path), { recursive: true });
    if ((await this.existing()) > 0) await truncate(this.partPath, offset);
    const handle = await open(this.partPath, offset === 0 ? 'w' : 'a');
    return {
      write: async (chunk) => {
        await handle.write(chunk);
      },
      close: () => handle.close(),
    };
  }

  /** Moves the finished `.part` into place. */
  async commit(): Promise<void> {
    await rename(this.partPath, this.path);
  }

  /** Whether the whole file is already there (a rerun skips it). */
  async complete(size: number): Promise<boolean> {
    try {
      return (await stat(this.path)).size === size;
    } catch {
      return false;
    }
  }
}
