/**
 * The hub source and downloader against the local hub stand-in (e2e/lib/hub-server.mjs): 404s named by URL,
 * a transfer cut midway and resumed with Range, a server that ignores Range, and cancel.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHubServer, type HubServer } from '../../e2e/lib/hub-server.mjs';
import { DownloadError, downloadHubFile, hubFileInfo, hubLocation, HubSource } from '../../src/models/sources/hub';
import { NodeFileSink } from '../../src/models/sources/node-sink';
import { fetchModelToDir } from '../../src/models/sources/fetch-to-dir';

const BIG = 3 * 1024 * 1024 + 17;
let server: HubServer;
let dir: string;
let out: string;
let big: Uint8Array;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hub-src-'));
  out = mkdtempSync(join(tmpdir(), 'hub-out-'));
  mkdirSync(join(dir, 'onnx'));
  big = new Uint8Array(BIG);
  for (let i = 0; i < BIG; i++) big[i] = (i * 2654435761) >>> 24;
  writeFileSync(join(dir, 'onnx/vision_model.onnx'), big);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'clip' }));
  writeFileSync(join(dir, 'preprocessor_config.json'), '{}');
  writeFileSync(join(dir, 'tokenizer.json'), '{}');
  writeFileSync(join(dir, 'onnx/text_model_fp16.onnx'), big.subarray(0, 200_000));
  writeFileSync(join(dir, 'onnx/vision_model_fp16.onnx'), big.subarray(0, 300_000));
  server = await startHubServer({ repos: { 'owner/model': dir }, revisions: ['main', 'v1'] });
});

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
});

const loc = () => hubLocation('owner/model', '', server.endpoint);

describe('hub source', () => {
  it('reads a file and names it by its hub URL', async () => {
    const source = new HubSource({ repo: 'owner/model', endpoint: server.endpoint });
    expect(source.name).toBe('model');
    expect(source.describe('config.json')).toBe(`${server.endpoint}/owner/model/resolve/main/config.json`);
    expect(new TextDecoder().decode(await source.read('config.json'))).toBe(JSON.stringify({ model_type: 'clip' }));
    expect(await source.has('config.json')).toBe(true);
    expect(await source.has('onnx/text_model.onnx')).toBe(false);
    expect(await source.size('onnx/vision_model.onnx')).toBe(BIG);
  });

  it('says which URL is missing and what to do (404)', async () => {
    const missingFile = new HubSource({ repo: 'owner/model', endpoint: server.endpoint });
    await expect(missingFile.read('onnx/text_model.onnx')).rejects.toThrow(
      new RegExp(`^${server.endpoint}/owner/model/resolve/main/onnx/text_model.onnx is missing \\(HTTP 404\\)`),
    );
    const missingRepo = new HubSource({ repo: 'owner/nothing', endpoint: server.endpoint });
    await expect(missingRepo.read('config.json')).rejects.toThrow(/no repo owner\/nothing at .* Check the repo id/);
    const missingRevision = new HubSource({ repo: 'owner/model', revision: 'v9', endpoint: server.endpoint });
    await expect(missingRevision.read('config.json')).rejects.toThrow(/has no revision "v9"/);
    expect(await new TextDecoder().decode(await new HubSource({ repo: 'owner/model', revision: 'v1', endpoint: server.endpoint }).read('config.json'))).toContain('clip');
  });

  it('refuses what is not a repo id or an endpoint', () => {
    expect(() => hubLocation('clip-vit-base-patch32')).toThrow(/owner\/name/);
    expect(() => hubLocation('a/b', '', 'ftp://x')).toThrow(/not an endpoint URL/);
    expect(hubLocation('https://huggingface.co/Xenova/clip-vit-base-patch32/')).toEqual({
      repo: 'Xenova/clip-vit-base-patch32',
      revision: 'main',
      endpoint: 'https://huggingface.co',
    });
  });

  it('a transfer cut midway resumes with a Range request and ends byte-identical', async () => {
    const path = join(out, 'cut/vision_model.onnx');
    const sink = new NodeFileSink(path);
    server.cut('onnx/vision_model.onnx', 1_000_000);
    const before = server.requests.length;
    let moved = 0;
    const error = await downloadHubFile(loc(), 'onnx/vision_model.onnx', sink, { onBytes: (d) => (moved += d) }).catch((e) => e);
    expect(error).toBeInstanceOf(DownloadError);
    expect((error as DownloadError).resumable).toBe(true);
    expect((error as Error).message).toMatch(
      new RegExp(`^${server.endpoint}/owner/model/resolve/main/onnx/vision_model.onnx stopped after \\d\\.\\d MB of 3\\.0 MB \\(the connection dropped.*Resume continues from there`),
    );
    const kept = await sink.existing();
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(1_000_000);
    expect(moved).toBe(kept);

    await downloadHubFile(loc(), 'onnx/vision_model.onnx', sink, { onBytes: (d) => (moved += d) });
    expect(moved).toBe(BIG);
    const ranges = server.requests.slice(before).map((r) => r.range);
    expect(ranges).toContain(`bytes=${kept}-${BIG - 1}`);
    await sink.commit();
    expect(existsSync(sink.partPath)).toBe(false);
    expect(Buffer.compare(readFileSync(path), Buffer.from(big))).toBe(0);
  });

  it('starts the file over when the server ignores Range', async () => {
    const sink = new NodeFileSink(join(out, 'norange/vision_model.onnx'));
    server.cut('onnx/vision_model.onnx', 500_000);
    await expect(downloadHubFile(loc(), 'onnx/vision_model.onnx', sink)).rejects.toThrow(DownloadError);
    // The client's size probe itself needs Content-Range, so the size is asked before Range goes away.
    const info = await hubFileInfo(loc(), 'onnx/vision_model.onnx');
    server.setRangeSupport(false);
    let restarted = 0;
    try {
      await downloadHubFile(loc(), 'onnx/vision_model.onnx', sink, { info, onRestart: () => restarted++ });
    } finally {
      server.setRangeSupport(true);
    }
    expect(restarted).toBe(1);
    await sink.commit();
    expect(Buffer.compare(readFileSync(sink.path), Buffer.from(big))).toBe(0);
  });

  it('cancel stops the transfer and keeps what arrived', async () => {
    const sink = new NodeFileSink(join(out, 'cancel/vision_model.onnx'));
    server.throttle(1024 * 1024);
    const controller = new AbortController();
    try {
      const run = downloadHubFile(loc(), 'onnx/vision_model.onnx', sink, {
        signal: controller.signal,
        onBytes: () => controller.abort(new DOMException('Cancelled', 'AbortError')),
      });
      await expect(run).rejects.toThrow(/Cancelled/);
    } finally {
      server.throttle(0);
    }
    const kept = await sink.existing();
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(BIG);
  });

  it('models:fetch writes the files into a directory, continues a dropped one, and a rerun downloads nothing', async () => {
    const target = join(out, 'fetched');
    server.cut('onnx/vision_model_fp16.onnx', 100_000);
    const source = new HubSource({ repo: 'owner/model', endpoint: server.endpoint });
    const sizes = await fetchModelToDir(source, target, { textDtype: 'fp16', visionDtype: 'fp16' });
    expect(Object.keys(sizes).sort()).toEqual(['config.json', 'onnx/text_model_fp16.onnx', 'onnx/vision_model_fp16.onnx', 'preprocessor_config.json', 'tokenizer.json']);
    for (const path of Object.keys(sizes)) expect(Buffer.compare(readFileSync(join(target, path)), readFileSync(join(dir, path)))).toBe(0);
    expect(existsSync(join(target, 'onnx/vision_model_fp16.onnx.part'))).toBe(false);
    expect(server.requests.some((r) => r.path.endsWith('vision_model_fp16.onnx') && r.range?.startsWith('bytes=') && r.range !== 'bytes=0-0')).toBe(true);
    const before = server.requests.length;
    await fetchModelToDir(source, target, { textDtype: 'fp16', visionDtype: 'fp16' });
    // Only the one-byte size probes: no file is downloaded again.
    expect(server.requests.slice(before).every((r) => r.method !== 'GET' || r.range === 'bytes=0-0')).toBe(true);
    await expect(fetchModelToDir(source, target, { textDtype: 'fp32', visionDtype: 'fp16' })).rejects.toThrow(/text_model.onnx is missing \(HTTP 404\).*as fp16: pick that dtype/);
  });
});
