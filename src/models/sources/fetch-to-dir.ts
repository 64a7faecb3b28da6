/**
 * `npm run models:fetch`'s work: a hub repo's model files into a directory on disk, through the same hub client
 * module as the app (sizes first, so a 404 or a missing dtype stops before anything is written; a file cut short
 * stays as `<file>.part` and the next run continues it with a Range request). Node only.
 */
import { join } from 'node:path';
import type { ModelSource } from '../source';
import { filesToStore, type AddRequest } from './add-model';
import type { TextDtype, VisionDtype } from './browser-store';
import { DownloadError, downloadHubFile, HubSource } from './hub';
import { NodeFileSink } from './node-sink';
import { TransferProgress, type TransferSnapshot } from './transfer';

export interface FetchToDirOptions {
  textDtype: TextDtype;
  visionDtype: VisionDtype;
  onProgress?: (s: TransferSnapshot) => void;
  signal?: AbortSignal;
  /** The loader's check of the small files at the hub (describeModel). */
  check?: (source: ModelSource) => Promise<void>;
  /** Times a dropped file is continued (Range) before giving up. */
  retries?: number;
}

/** Downloads into `dir` and returns the files written (path → bytes). */
export async function fetchModelToDir(source: HubSource, dir: string, options: FetchToDirOptions): Promise<Record<string, number>> {
  await options.check?.(source);
  const req: AddRequest = { from: source, textDtype: options.textDtype, visionDtype: options.visionDtype };
  const sizes = await filesToStore(source, req, options.signal);
  const progress = new TransferProgress();
  const sinks = new Map<string, NodeFileSink>();
  for (const [path, size] of Object.entries(sizes)) {
    const sink = new NodeFileSink(join(dir, ...path.split('/')));
    sinks.set(path, sink);
    progress.expect(path, size, (await sink.complete(size)) ? size : Math.min(await sink.existing(), size));
  }
  const report = () => options.onProgress?.(progress.snapshot());
  report();
  for (const [path, size] of Object.entries(sizes)) {
    const sink = sinks.get(path)!;
    if (await sink.complete(size)) continue;
    for (let attempt = 0; ; attempt++) {
      try {
        await downloadHubFile(source.location, path, sink, {
          signal: options.signal,
          onBytes: (n) => {
            progress.add(path, n);
            report();
          },
          onRestart: () => progress.restart(path),
        });
        break;
      } catch (e) {
        if (!(e instanceof DownloadError) || !e.resumable || attempt >= (options.retries ?? 3) || options.signal?.aborted) throw e;
      }
    }
    await sink.commit();
    progress.finish(path);
    report();
  }
  return sizes;
}
