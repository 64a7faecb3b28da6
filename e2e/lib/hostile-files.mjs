/**
 * Hostile files for the app (issue 22), written to a folder: each maker returns what its file is, how it was made and
 * what it declares, for the spec's assertions and the table in docs/hostile-files.md. They are made to hurt a reader
 * that trusts them, yet each is cheap to make: the zip bomb deflates 1 GiB of zeros once (about 2 s) and stores the
 * same stream three times.
 */
import { writeFileSync, openSync, writeSync, closeSync, statSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { strToU8, zipSync } from 'fflate';

const GiB = 2 ** 30;

/** A project.json naming the bundled model and one class whose images are `files`. */
function projectJson(files) {
  return JSON.stringify({
    format: 'coop-project',
    version: 1,
    created: '2026-01-01T00:00:00.000Z',
    model: { id: 'toy-clip', folder: 'toy-clip', fingerprint: '' },
    classes: [{ name: 'disc', images: files.map((file, i) => ({ file, name: `img${i}.png`, split: 'train' })) }],
    extraSets: [],
    holdOut: 0.25,
    settings: {},
    position: 'end',
    activeRunId: null,
    overlay: [],
    runs: [],
  });
}

/**
 * A zip written by hand, so that one deflated stream can stand for several entries: entries are
 * { name, data (stored bytes), method (0 stored, 8 deflate), crc, size (inflated) }.
 */
function writeZip(path, entries) {
  const fd = openSync(path, 'w');
  let offset = 0;
  const central = [];
  const put = (b) => {
    writeSync(fd, b);
    offset += b.length;
  };
  for (const e of entries) {
    const name = Buffer.from(e.name);
    const h = Buffer.alloc(30);
    h.writeUInt32LE(0x04034b50, 0);
    h.writeUInt16LE(20, 4);
    h.writeUInt16LE(e.method, 8);
    h.writeUInt32LE(e.crc >>> 0, 14);
    h.writeUInt32LE(e.data.length, 18);
    h.writeUInt32LE(e.size, 22);
    h.writeUInt16LE(name.length, 26);
    const at = offset;
    put(h);
    put(name);
    put(e.data);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(20, 4);
    c.writeUInt16LE(20, 6);
    c.writeUInt16LE(e.method, 10);
    c.writeUInt32LE(e.crc >>> 0, 16);
    c.writeUInt32LE(e.data.length, 20);
    c.writeUInt32LE(e.size, 24);
    c.writeUInt16LE(name.length, 28);
    c.writeUInt32LE(at, 42);
    central.push(Buffer.concat([c, name]));
  }
  const cdStart = offset;
  for (const c of central) put(c);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(offset - cdStart, 12);
  end.writeUInt32LE(cdStart, 16);
  put(end);
  closeSync(fd);
}

/** The PNG signature and an IHDR chunk declaring width × height, then IEND: a header with no pixels behind it. */
export function pngHeader(width, height) {
  const b = Buffer.alloc(33 + 12);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]).copy(b);
  b.writeUInt32BE(width, 16);
  b.writeUInt32BE(height, 20);
  Buffer.from([8, 6, 0, 0, 0]).copy(b, 24);
  Buffer.from([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]).copy(b, 33);
  return b;
}

/** bomb.zip: a project.json and three "images" that each inflate to 1 GiB of zeros (~1 MB each in the zip). */
export function zipBomb(dir) {
  const gz = gzipSync(Buffer.alloc(GiB), { level: 9 });
  // gzip = 10-byte header + raw deflate + CRC32 + ISIZE: the zip entry takes the deflate stream and the CRC as they are.
  const deflated = gz.subarray(10, gz.length - 8);
  const crc = gz.readUInt32LE(gz.length - 8);
  const names = [1, 2, 3].map((i) => `images/0000${i}-zeros.png`);
  const json = Buffer.from(projectJson(names));
  const path = join(dir, 'bomb.zip');
  writeZip(path, [
    { name: 'project.json', data: json, method: 0, crc: crcOf(json), size: json.length },
    ...names.map((name) => ({ name, data: deflated, method: 8, crc, size: GiB })),
  ]);
  return { path, name: 'bomb.zip', made: 'Node zlib: 1 GiB of zeros deflated once at level 9, stored as three entries by a hand-written zip writer', declares: 'three images of 1 GiB each (3 GiB inflated)', bytes: statSync(path).size };
}

/** huge-header.zip: a project whose one image is a PNG header declaring 60,000 × 60,000 pixels. */
export function hugePngProject(dir) {
  const path = join(dir, 'huge-header.zip');
  writeFileSync(path, zipSync({ 'project.json': strToU8(projectJson(['images/00001-huge.png'])), 'images/00001-huge.png': pngHeader(60_000, 60_000) }));
  return { path, name: 'huge-header.zip', made: 'fflate zipSync: project.json and a 45-byte PNG (signature, IHDR, IEND)', declares: 'an image of 60,000 × 60,000 pixels (3.6 gigapixels, 14.4 GB as RGBA)', bytes: statSync(path).size };
}

/** huge.png: the same PNG header alone, for the places that take images (the Predict panel). */
export function hugePng(dir) {
  const path = join(dir, 'huge.png');
  writeFileSync(path, pngHeader(60_000, 60_000));
  return { path, name: 'huge.png', made: 'a 45-byte PNG written by hand (signature, IHDR, IEND)', declares: '60,000 × 60,000 pixels', bytes: statSync(path).size };
}

/** huge-array.json: a prompt file whose first context vector is a 500 MB array of zeros. */
export function hugeArrayPrompt(dir, fingerprint, megabytes = 500) {
  const path = join(dir, 'huge-array.json');
  const fd = openSync(path, 'w');
  writeSync(fd, `{"format":"coop-prompt","version":1,"model":{"id":"toy-clip","text_model_sha256":"${fingerprint}"},"embed_dim":128,"n_ctx":1,"csc":false,"context":[[`);
  const chunk = Buffer.from('0,'.repeat(2 ** 19));
  for (let i = 0; i < megabytes; i++) writeSync(fd, chunk);
  writeSync(fd, '0]]}');
  closeSync(fd);
  return { path, name: 'huge-array.json', made: `Node: the prompt header, then "0," written ${megabytes} × 1 MiB`, declares: `one context vector of ${megabytes * 2 ** 19} values (embed_dim is 128)`, bytes: statSync(path).size };
}

/** many-ctx.json: a small prompt file declaring n_ctx = 10^9 (a reader sizing its buffer from it asks for 512 GB). */
export function manyContextPrompt(dir, fingerprint) {
  const path = join(dir, 'many-ctx.json');
  writeFileSync(path, JSON.stringify({ format: 'coop-prompt', version: 1, model: { id: 'toy-clip', text_model_sha256: fingerprint }, embed_dim: 128, n_ctx: 1e9, csc: false, context: [] }));
  return { path, name: 'many-ctx.json', made: 'JSON.stringify of a prompt header', declares: 'n_ctx = 1,000,000,000 (1e9 × 128 floats: 512 GB)', bytes: statSync(path).size };
}

/** A small valid project (one class, two sample images), to open over unsaved work. */
export function validProject(dir, root) {
  const files = ['train/disc/000.jpg', 'train/box/000.jpg'];
  const names = files.map((_, i) => `images/0000${i + 1}-sample.jpg`);
  const path = join(dir, 'valid.zip');
  const entries = { 'project.json': strToU8(projectJson(names)) };
  files.forEach((f, i) => (entries[names[i]] = [readFileSync(join(root, 'public/samples', f)), { level: 0 }]));
  writeFileSync(path, zipSync(entries));
  return { path, name: 'valid.zip' };
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crcOf(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
