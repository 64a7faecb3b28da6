/**
 * The Hugging Face hub as a model source, through @huggingface/hub (the client its authors maintain): files at
 * `{endpoint}/{repo}/resolve/{revision}/{file}`, the endpoint changeable like HF_ENDPOINT.
 *
 * `downloadHubFile` writes one file into a sink (the browser store, a directory in Node, memory) and resumes a file
 * that a sink already holds in part with a Range request (the client's Blob.slice). A server that ignores Range
 * answers 200 with the whole file; the sink then starts over from byte 0.
 */
import { downloadFile, fileDownloadInfo, fileExists, HubApiError, type FileDownloadInfoOutput } from '@huggingface/hub';
import { ModelFileError } from '../errors';
import { checkReadSize, type ModelSource, type ReadOptions } from '../source';
import { formatMB } from './transfer';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

export interface HubLocation {
  /** `owner/name`. */
  repo: string;
  /** Branch, tag or commit; `main` when empty. */
  revision?: string;
  /** Where the hub is; https://huggingface.co when empty. */
  endpoint?: string;
}

/** Where a download can write, appending to what an interrupted try left. */
export interface FileSink {
  /** Bytes already held for this file from an earlier try. */
  existing(): Promise<number>;
  /** Opens for writing at `offset`: what is held is kept up to there (0 starts the file over). */
  open(offset: number): Promise<SinkWriter>;
}

export interface SinkWriter {
  write(chunk: Uint8Array): Promise<void>;
  /** Keeps what was written (also after a failure, so a later try resumes). */
  close(): Promise<void>;
}

/** A download that failed; `resumable` when trying again continues where it stopped (a dropped connection). */
export class DownloadError extends ModelFileError {
  constructor(
    file: string,
    detail: string,
    readonly resumable: boolean,
    readonly status?: number,
  ) {
    super(file, detail);
    this.name = 'DownloadError';
  }
}

const REPO_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Checks and normalizes what a person typed; throws a message that says what is wrong. */
export function hubLocation(repo: string, revision?: string, endpoint?: string): Required<HubLocation> {
  const r = repo.trim().replace(/^https?:\/\/[^/]+\//, '').replace(/\/+$/, '');
  if (!REPO_ID.test(r)) throw new Error(`"${repo}" is not a repo id: write it as owner/name, e.g. Xenova/clip-vit-base-patch32`);
  let e = (endpoint ?? '').trim().replace(/\/+$/, '') || DEFAULT_ENDPOINT;
  try {
    const u = new URL(e);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
    e = u.origin + u.pathname.replace(/\/+$/, '');
  } catch {
    throw new Error(`"${endpoint}" is not an endpoint URL: write it as https://huggingface.co or your mirror's address`);
  }
  return { repo: r, revision: (revision ?? '').trim() || 'main', endpoint: e };
}

export function hubFileUrl(loc: Required<HubLocation>, path: string): string {
  return `${loc.endpoint}/${loc.repo}/resolve/${encodeURIComponent(loc.revision)}/${path}`;
}

/** A fetch that honours `signal` and reports each response's status (to tell a 206 from a Range ignored). */
function fetchWith(signal: AbortSignal | undefined, onResponse?: (r: Response, init?: RequestInit) => void): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, { ...init, signal });
    onResponse?.(response, init);
    return response;
  };
}

function failure(loc: Required<HubLocation>, path: string, e: unknown, signal?: AbortSignal): Error {
  if (signal?.aborted) return signal.reason instanceof Error ? signal.reason : new DOMException('Cancelled', 'AbortError');
  if (e instanceof DownloadError) return e;
  const url = hubFileUrl(loc, path);
  if (e instanceof HubApiError) {
    const code = (e.data as { error?: string } | undefined)?.error ?? '';
    if (e.statusCode === 404 || e.statusCode === 401) {
      if (/revision|rev id/i.test(code))
        return new DownloadError(url, `was not found (HTTP ${e.statusCode}): the repo ${loc.repo} has no revision "${loc.revision}". Check the revision (a branch, tag or commit), or leave it empty for main.`, false, e.statusCode);
      return new DownloadError(url, `was not found (HTTP ${e.statusCode}): there is no repo ${loc.repo} at ${loc.endpoint} (or it is private). Check the repo id and the endpoint.`, false, e.statusCode);
    }
    return new DownloadError(url, `could not be downloaded (HTTP ${e.statusCode}). Try again later, or check the endpoint.`, e.statusCode >= 500, e.statusCode);
  }
  const message = e instanceof Error ? e.message : String(e);
  return new DownloadError(url, `could not be downloaded (${message || 'the connection failed'}). Check the endpoint and your connection, then try again.`, true);
}

function dropped(loc: Required<HubLocation>, path: string, written: number, size: number, cause?: unknown): DownloadError {
  const why = cause === undefined ? '' : `: ${cause instanceof Error ? cause.message : String(cause)}`;
  return new DownloadError(
    hubFileUrl(loc, path),
    `stopped after ${formatMB(written)} of ${formatMB(size)} (the connection dropped${why}). What arrived is kept: Resume continues from there.`,
    true,
  );
}

/** Size, ETag and final URL of one file; a missing file throws "is missing (HTTP 404)". */
export async function hubFileInfo(loc: Required<HubLocation>, path: string, signal?: AbortSignal): Promise<FileDownloadInfoOutput> {
  let info: FileDownloadInfoOutput | null;
  try {
    info = await fileDownloadInfo({ repo: loc.repo, path, revision: loc.revision, hubUrl: loc.endpoint, fetch: fetchWith(signal) });
  } catch (e) {
    throw failure(loc, path, e, signal);
  }
  if (!info) {
    throw new DownloadError(hubFileUrl(loc, path), `is missing (HTTP 404): the repo ${loc.repo} has no ${path} at revision ${loc.revision}. Check that it holds a transformers.js CLIP export (onnx/ folder), or pick another dtype.`, false, 404);
  }
  return info;
}

export interface DownloadOptions extends ReadOptions {
  /** From hubFileInfo, to save its request. */
  info?: FileDownloadInfoOutput;
  /** The server ignored Range and sends the file from its start: progress for this file goes back to 0. */
  onRestart?: () => void;
}

/**
 * Downloads one file into `sink`, continuing from the bytes the sink already holds. A dropped connection throws a
 * resumable DownloadError; what arrived stays in the sink, so calling again continues with a Range request.
 */
export async function downloadHubFile(loc: Required<HubLocation>, path: string, sink: FileSink, options: DownloadOptions = {}): Promise<number> {
  const { signal } = options;
  const info = options.info ?? (await hubFileInfo(loc, path, signal));
  checkReadSize(hubFileUrl(loc, path), info.size, options);
  let offset = await sink.existing();
  if (offset > info.size) offset = 0;
  if (offset === info.size) return info.size;
  let status = 0;
  const fetchFn = fetchWith(signal, (r) => {
    status = r.status;
  });
  let writer: SinkWriter | null = null;
  let written = offset;
  try {
    // xet: false — transformers.js exports are served as plain files; the xet protocol needs the hub's own CAS.
    const blob = await downloadFile({ repo: loc.repo, path, revision: loc.revision, hubUrl: loc.endpoint, fetch: fetchFn, downloadInfo: info, xet: false });
    if (!blob) throw new DownloadError(hubFileUrl(loc, path), 'is missing (HTTP 404)', false, 404);
    const reader = (offset > 0 ? blob.slice(offset) : blob).stream().getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (!writer) {
        // The first chunk (or the end) comes after the response: now we know whether Range was honoured.
        if (offset > 0 && status === 200) {
          offset = 0;
          written = 0;
          options.onRestart?.();
        }
        writer = await sink.open(offset);
      }
      if (done) break;
      await writer.write(value);
      written += value.byteLength;
      options.onBytes?.(value.byteLength);
    }
  } catch (e) {
    if (signal?.aborted || e instanceof HubApiError || e instanceof DownloadError || written === offset) throw failure(loc, path, e, signal);
    // The body broke off after some bytes: the connection dropped; what arrived is in the sink.
    throw dropped(loc, path, written, info.size, e);
  } finally {
    // Keeps what arrived for a resume. A close that fails after a failure must not hide the first error.
    await writer?.close().catch((e) => {
      if (written === info.size) throw e;
    });
  }
  if (written !== info.size) throw dropped(loc, path, written, info.size);
  return written;
}

/** Collects a file in memory (a hub source's plain read). */
export class MemorySink implements FileSink {
  private chunks: Uint8Array[] = [];
  async existing() {
    return this.chunks.reduce((s, c) => s + c.byteLength, 0);
  }
  async open(offset: number): Promise<SinkWriter> {
    if (offset === 0) this.chunks = [];
    return { write: async (c) => void this.chunks.push(c), close: async () => {} };
  }
  bytes(): Uint8Array {
    if (this.chunks.length === 1) return this.chunks[0];
    const out = new Uint8Array(this.chunks.reduce((s, c) => s + c.byteLength, 0));
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.byteLength;
    }
    return out;
  }
}

/** Reads a hub repo's files straight into memory (the loader's `describeModel` on the small files). */
export class HubSource implements ModelSource {
  readonly kind = 'hub' as const;
  readonly name: string;
  readonly location: Required<HubLocation>;

  constructor(location: HubLocation) {
    this.location = hubLocation(location.repo, location.revision, location.endpoint);
    this.name = this.location.repo.split('/')[1];
  }

  describe(path: string): string {
    return hubFileUrl(this.location, path);
  }

  async has(path: string, signal?: AbortSignal): Promise<boolean> {
    try {
      return await fileExists({ repo: this.location.repo, path, revision: this.location.revision, hubUrl: this.location.endpoint, fetch: fetchWith(signal) });
    } catch (e) {
      throw failure(this.location, path, e, signal);
    }
  }

  async size(path: string, signal?: AbortSignal): Promise<number | undefined> {
    return (await hubFileInfo(this.location, path, signal)).size;
  }

  async read(path: string, options: ReadOptions = {}): Promise<Uint8Array> {
    const sink = new MemorySink();
    // One retry continues a dropped transfer with Range before the error reaches the person.
    try {
      await downloadHubFile(this.location, path, sink, options);
    } catch (e) {
      if (!(e instanceof DownloadError) || !e.resumable || options.signal?.aborted) throw e;
      await downloadHubFile(this.location, path, sink, options);
    }
    return sink.bytes();
  }
}
