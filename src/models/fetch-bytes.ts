import { ModelFileError } from './errors';
import { checkReadSize, type ReadOptions } from './source';

/**
 * Fetches a file as bytes, streaming so a progress bar can move while large ONNX files arrive.
 * `file` is the display path used in messages; `onBytes` receives each chunk's length.
 */
export async function fetchBytes(
  url: string,
  file: string,
  onBytes: (delta: number) => void = () => {},
  signal?: AbortSignal,
  limit: Pick<ReadOptions, 'maxBytes' | 'maxBytesAdvice'> = {},
): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url, { signal });
  } catch (e) {
    if (signal?.aborted) throw e;
    throw new ModelFileError(file, `could not be fetched (${(e as Error).message}); check the connection and try again`);
  }
  if (response.status === 404) throw new ModelFileError(file, 'is missing (HTTP 404); add the file to the model folder, or choose another model');
  if (!response.ok) {
    throw new ModelFileError(file, `could not be loaded (HTTP ${`${response.status} ${response.statusText}`.trim()}); try again later`);
  }
  // A dev server's SPA fallback answers a missing file with index.html and status 200.
  if ((response.headers.get('content-type') ?? '').includes('text/html') && !file.endsWith('.html')) {
    throw new ModelFileError(file, 'is missing (the server answered with an HTML page); add the file to the model folder, or choose another model');
  }
  // A server that says the size is held to it before the body is read; one that does not, as the bytes arrive.
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared)) checkReadSize(file, declared, limit);
  if (!response.body) {
    const buf = new Uint8Array(await response.arrayBuffer());
    onBytes(buf.byteLength);
    return buf;
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    total += value.byteLength;
    if (limit.maxBytes !== undefined && total > limit.maxBytes) {
      void reader.cancel();
      checkReadSize(file, total, limit);
    }
    onBytes(value.byteLength);
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

/** Fetches and decodes text; a decoding error names the file too. */
export async function fetchText(
  url: string,
  file: string,
  onBytes?: (delta: number) => void,
  signal?: AbortSignal,
): Promise<string> {
  const bytes = await fetchBytes(url, file, onBytes, signal);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ModelFileError(file, 'is not valid UTF-8 text; replace it with the file as published');
  }
}
