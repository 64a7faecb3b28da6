/**
 * A small local stand-in for the Hugging Face hub, for tests (vitest and e2e) and by hand:
 * `node e2e/lib/hub-server.mjs <port> <owner/name>=<folder> …`.
 *
 * It serves folders under the hub's URL scheme, `/<owner>/<name>/resolve/<revision>/<file>` (and `/raw/`, which
 * @huggingface/hub's fileExists asks with HEAD), with what the client reads: Content-Length, ETag, Range requests
 * answered 206 with Content-Range (fileDownloadInfo probes `bytes=0-0`), 404 with the hub's X-Error-Code
 * (RepoNotFound, RevisionNotFound, EntryNotFound: the client returns null only for EntryNotFound), and the tree API
 * (`/api/models/<owner>/<name>/tree/<revision>`) that listFiles pages through. CORS and
 * Cross-Origin-Resource-Policy let the cross-origin-isolated app (COEP require-corp) read it.
 *
 * Faults on demand, from the test's process (`server.cut(…)`) or over HTTP (`POST /__control/cut?…`):
 * cut a transfer after N bytes (the socket is destroyed mid-body, as a dropped connection looks to the client),
 * slow every transfer down, or ignore Range headers like a server without them.
 *
 * It only ever listens on 127.0.0.1.
 */
import { createServer } from 'node:http';
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';

const EXPOSED = ['Content-Length', 'Content-Range', 'Accept-Ranges', 'ETag', 'X-Error-Code', 'X-Linked-Size', 'X-Linked-ETag', 'X-Repo-Commit'];

function listTree(dir) {
  const out = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        out.push({ type: 'directory', path: relative(dir, p).split(sep).join('/'), size: 0, oid: '0' });
        walk(p);
      } else if (e.isFile()) {
        const st = statSync(p);
        out.push({ type: 'file', path: relative(dir, p).split(sep).join('/'), size: st.size, oid: etagOf(st) });
      }
    }
  };
  walk(dir);
  return out;
}

const etagOf = (st) => `${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}`;

/**
 * @param {object} options
 * @param {Record<string, string>} options.repos  repo id → folder on disk
 * @param {number} [options.port]  0 (default) picks a free port
 * @param {string[]} [options.revisions]  revisions every repo answers to (default: main)
 */
export async function startHubServer({ repos, port = 0, revisions = ['main'] }) {
  /** @type {{ file: string, after: number, times: number }[]} */
  const cuts = [];
  let bytesPerSecond = 0;
  let rangeSupport = true;
  const requests = [];

  const cors = {
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Expose-Headers': EXPOSED.join(', '),
    'Cross-Origin-Resource-Policy': 'cross-origin',
  };

  function notFound(res, code, message) {
    res.writeHead(404, { ...cors, 'Content-Type': 'application/json', 'X-Error-Code': code });
    res.end(JSON.stringify({ error: message }));
  }

  function control(url, res) {
    const q = url.searchParams;
    if (url.pathname === '/__control/cut') cuts.push({ file: q.get('file') ?? '', after: Number(q.get('after') ?? 0), times: Number(q.get('times') ?? 1) });
    else if (url.pathname === '/__control/throttle') bytesPerSecond = Number(q.get('bytesPerSecond') ?? 0);
    else if (url.pathname === '/__control/range') rangeSupport = q.get('on') !== '0';
    else if (url.pathname === '/__control/reset') {
      cuts.length = 0;
      bytesPerSecond = 0;
      rangeSupport = true;
    } else return notFound(res, 'ControlNotFound', `no control ${url.pathname}`);
    res.writeHead(204, cors);
    res.end();
  }

  function serveFile(req, res, path, repoPath) {
    const st = statSync(path);
    const headers = { ...cors, 'Content-Type': 'application/octet-stream', ETag: `"${etagOf(st)}"`, 'X-Repo-Commit': 'local' };
    let start = 0;
    let end = st.size - 1;
    let status = 200;
    const range = rangeSupport ? req.headers.range : undefined;
    if (rangeSupport) headers['Accept-Ranges'] = 'bytes';
    if (range) {
      const m = /^bytes=(\d*)-(\d*)$/.exec(range);
      if (!m || (m[1] === '' && m[2] === '')) {
        res.writeHead(416, { ...headers, 'Content-Range': `bytes */${st.size}` });
        return res.end();
      }
      if (m[1] === '') start = Math.max(0, st.size - Number(m[2]));
      else {
        start = Number(m[1]);
        if (m[2] !== '') end = Math.min(end, Number(m[2]));
      }
      if (start >= st.size || start > end) {
        res.writeHead(416, { ...headers, 'Content-Range': `bytes */${st.size}` });
        return res.end();
      }
      status = 206;
      headers['Content-Range'] = `bytes ${start}-${end}/${st.size}`;
    }
    headers['Content-Length'] = String(end - start + 1);
    res.writeHead(status, headers);
    if (req.method === 'HEAD') return res.end();

    // Only a transfer longer than the cut point is cut (not the client's one-byte size probe).
    const length = end - start + 1;
    const cutIndex = cuts.findIndex((c) => c.times > 0 && repoPath.endsWith(c.file) && length > c.after);
    let cutAt = Infinity;
    if (cutIndex >= 0) {
      const c = cuts[cutIndex];
      // `after` counts bytes of this response; a Range request resumed past the cut point is cut after `after` more.
      cutAt = c.after;
      if (--c.times <= 0) cuts.splice(cutIndex, 1);
    }
    let sent = 0;
    const stream = createReadStream(path, { start, end, highWaterMark: 64 * 1024 });
    const started = Date.now();
    stream.on('data', (chunk) => {
      if (sent + chunk.length > cutAt) {
        const part = chunk.subarray(0, Math.max(0, cutAt - sent));
        stream.destroy();
        // Flush what was promised up to the cut, then drop the connection without finishing the body.
        res.write(part, () => res.socket?.destroy());
        sent += part.length;
        return;
      }
      sent += chunk.length;
      const ok = res.write(chunk);
      if (bytesPerSecond > 0) {
        stream.pause();
        const due = started + (1000 * sent) / bytesPerSecond - Date.now();
        setTimeout(() => stream.resume(), Math.max(0, due));
      } else if (!ok) {
        stream.pause();
        res.once('drain', () => stream.resume());
      }
    });
    stream.on('end', () => res.end());
    stream.on('error', () => res.socket?.destroy());
    res.on('close', () => stream.destroy());
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push({ method: req.method, path: url.pathname, range: req.headers.range });
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        ...cors,
        'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
        'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] ?? 'Range, Accept, Authorization, Content-Type',
        'Access-Control-Max-Age': '600',
      });
      return res.end();
    }
    if (url.pathname.startsWith('/__control/')) return control(url, res);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, cors);
      return res.end();
    }
    const parts = url.pathname.split('/').slice(1).map(decodeURIComponent);
    if (parts[0] === 'api' && parts[1] === 'models') {
      // /api/models/<owner>/<name>/tree/<revision>[/<path>]
      const repo = `${parts[2]}/${parts[3]}`;
      if (!repos[repo]) return notFound(res, 'RepoNotFound', 'Repository not found');
      if (parts[4] !== 'tree') return notFound(res, 'EntryNotFound', 'Entry not found');
      if (!revisions.includes(parts[5])) return notFound(res, 'RevisionNotFound', `Invalid rev id: ${parts[5]}`);
      const sub = parts.slice(6).join('/');
      const recursive = url.searchParams.get('recursive') === 'true';
      const all = listTree(repos[repo]).filter((e) => (sub ? e.path.startsWith(`${sub}/`) : true));
      const depth = (p) => p.split('/').length - (sub ? sub.split('/').length : 0);
      res.writeHead(200, { ...cors, 'Content-Type': 'application/json' });
      return res.end(JSON.stringify(recursive ? all : all.filter((e) => depth(e.path) === 1)));
    }
    // /<owner>/<name>/(resolve|raw)/<revision>/<file…>
    const [owner, name, kind, revision, ...rest] = parts;
    const repo = `${owner}/${name}`;
    if (!repos[repo] || (kind !== 'resolve' && kind !== 'raw')) return notFound(res, 'RepoNotFound', 'Repository not found');
    if (!revisions.includes(revision)) return notFound(res, 'RevisionNotFound', `Invalid rev id: ${revision}`);
    const file = rest.join('/');
    const root = resolve(repos[repo]);
    const path = resolve(root, file);
    if (!path.startsWith(root + sep) || !existsSync(path) || !statSync(path).isFile()) return notFound(res, 'EntryNotFound', 'Entry not found');
    serveFile(req, res, path, file);
  });

  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', ok);
  });
  const address = server.address();
  const endpoint = `http://127.0.0.1:${address.port}`;
  return {
    endpoint,
    port: address.port,
    /** Every request so far (method, path, range): lets a test prove that a stored model made none. */
    requests,
    /** Cuts the next `times` transfers of a file whose path ends with `file`, after `after` bytes of the response. */
    cut(file, after, times = 1) {
      cuts.push({ file, after, times });
    },
    throttle(bytesPerSecond_) {
      bytesPerSecond = bytesPerSecond_;
    },
    setRangeSupport(on) {
      rangeSupport = on;
    },
    stop() {
      server.closeAllConnections?.();
      return new Promise((ok) => server.close(() => ok()));
    },
  };
}

// By hand: node e2e/lib/hub-server.mjs 4190 Xenova/clip-vit-base-patch32=/path/to/folder
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [port, ...pairs] = process.argv.slice(2);
  const repos = Object.fromEntries(pairs.map((p) => p.split('=')));
  const s = await startHubServer({ repos, port: Number(port ?? 0) });
  console.log(`hub stand-in at ${s.endpoint} serving ${Object.keys(repos).join(', ')} (Ctrl-C stops it)`);
}
