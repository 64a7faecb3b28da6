import { ModelFileError } from '../errors';
import { fetchBytes } from '../fetch-bytes';
import type { ModelSource, ReadOptions } from '../source';
import { displayPath } from '../types';

/**
 * A folder bundled with the app: `public/models/<folder>/`, served under the app's base URL. `sizes` is the
 * model index's row (models/index.json lists the files present and their sizes), so asking which files
 * exist costs no request; without it, each question is a HEAD request.
 */
export function bundledSource(baseUrl: string, folder: string, sizes?: Record<string, number>): ModelSource {
  // An index row with no files at all (a caller without the index) says nothing: ask the server instead.
  if (sizes && Object.keys(sizes).length === 0) sizes = undefined;
  const root = `${baseUrl}models/${encodeURIComponent(folder)}/`;
  const url = (path: string) => root + path.split('/').map(encodeURIComponent).join('/');
  const head = async (path: string, signal?: AbortSignal): Promise<Response | null> => {
    try {
      const r = await fetch(url(path), { method: 'HEAD', signal });
      // A dev server's SPA fallback answers a missing file with index.html and status 200.
      if (!r.ok || (r.headers.get('content-type') ?? '').includes('text/html')) return null;
      return r;
    } catch (e) {
      if (signal?.aborted) throw e;
      throw new ModelFileError(displayPath(folder, path), `could not be reached (${(e as Error).message}); check that the app's server is running`);
    }
  };
  return {
    kind: 'bundled',
    name: folder,
    describe: (path) => displayPath(folder, path),
    async has(path, signal) {
      if (sizes) return path in sizes;
      return (await head(path, signal)) !== null;
    },
    async size(path, signal) {
      if (sizes) return sizes[path];
      const n = Number((await head(path, signal))?.headers.get('content-length') ?? NaN);
      return Number.isFinite(n) ? n : undefined;
    },
    read(path, options: ReadOptions = {}) {
      return fetchBytes(url(path), displayPath(folder, path), options.onBytes, options.signal);
    },
  };
}
