/** Node-side fixture and model file access; the format itself is in fixture-format.ts. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { parseFixture, type Fixture } from './fixture-format';

export { parseFixture, type Fixture, type FixtureTensor } from './fixture-format';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIXTURES = path.join(REPO_ROOT, 'tests', 'fixtures');
export const TOY_CLIP = path.join(REPO_ROOT, 'public', 'models', 'toy-clip');

export function loadFixture(name: string): Fixture {
  return parseFixture(new Uint8Array(readFileSync(path.join(FIXTURES, name))));
}

/** The file as an ArrayBuffer of exactly its bytes (what a browser's fetch().arrayBuffer() gives). */
export function readArrayBuffer(file: string): ArrayBuffer {
  const b = readFileSync(file);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}
