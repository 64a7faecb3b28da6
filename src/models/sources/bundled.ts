import { ModelFileError } from '../errors';
import { fetchBytes } from '../fetch-bytes';
import type { ModelSource, ReadOptions, SourceKind } from '../source';
import { displayPath } from '../types';

export interface HttpFolder {
  /** URL of the folder, ending in '/'. */
  rootUrl: string;
  name: string;
  kind: SourceKind;
  /** How a file is named in messages. */
  describe(path: string): string;
  /**
   * The files present and their sizes, where a listing gave them (the app's models/index.json): asking which
   * dtypes exist then costs no request. Without it each question is a HEAD request.
   */
  sizes?: Record<string, number>;
}

/** A model folder served over HTTP as plain files (the app's bundled models, the bench page's folder). */
export function httpFolderSource(f: HttpFolder): ModelSource {
  // An empty listing (a caller without the index) says nothing: ask the server instead.
  const sizes = f.sizes && Object.keys(f.sizes).length ? f.sizes : undefined;
  const url = (path: string) => f.rootUrl + path.split('/').map(encodeURIComponent).join('/');
  const head = async (path: string, signal?: AbortSignal): Promise<Response | null> => {
    try {
      const r = await fetch(url(path), { method: 'HEAD', signal });
      // A dev server's SPA fallback answers a missing file with index.html and status 200.
      if (!r.ok || (r.headers.get('content-type') ?? '').includes('text/html')) return null;
      return r;
    } catch (e) {
      if (signal?.aborted) throw e;
      throw new ModelFileError(f.describe(path), `could not be reached (${(e as Error).message}); check that the server is running`);
    }
  };
  return {
    kind: f.kind,
    name: f.name,
    describe: f.describe,
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
      return fetchBytes(url(path), f.describe(path), options.onBytes, options.signal, options);
    },
  };
}

/** A folder bundled with the app: `public/models/<folder>/`, served under the app's base URL. */
export function bundledSource(baseUrl: string, folder: string, sizes?: Record<string, number>): ModelSource {
  return httpFolderSource({
    rootUrl: `${baseUrl}models/${encodeURIComponent(folder)}/`,
    name: folder,
    kind: 'bundled',
    describe: (path) => displayPath(folder, path),
    sizes,
  });
}
