/**
 * Repository files for tests that run both in Node and in the vitest browser project: the browser
 * fetches them from the test server (repo root; public/ is served at /), Node reads the disk.
 * No static Node imports, so this module loads in Chromium.
 */
import { loadTextWeights, type TextWeights } from '../../src/engine/model/text-weights';
import { parseFixture, type Fixture } from './fixture-format';
import { dumpFromFixture, type Dump } from '../engine/dump-spec';

/** True in the vitest browser project (Chromium), false in Node. */
export const IN_BROWSER = typeof window !== 'undefined' && typeof document !== 'undefined';

/** `rel` is relative to the repository root, e.g. 'tests/fixtures/prompts.bin'. */
export async function readRepoFile(rel: string): Promise<Uint8Array> {
  if (IN_BROWSER) {
    const url = rel.startsWith('public/') ? `/${rel.slice('public/'.length)}` : `/${rel}`;
    const res = await fetch(url);
    if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${res.statusText}`);
    return new Uint8Array(await res.arrayBuffer());
  }
  const fsSpec = 'node:fs/promises';
  const { readFile } = (await import(/* @vite-ignore */ fsSpec)) as typeof import('node:fs/promises');
  const root = new URL('../../', import.meta.url);
  const b = await readFile(new URL(rel, root));
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export async function readRepoJson<T = unknown>(rel: string): Promise<T> {
  return JSON.parse(new TextDecoder().decode(await readRepoFile(rel))) as T;
}

export const TOY_CLIP_DIR = 'public/models/toy-clip';

export async function loadFixtureAsync(name: string): Promise<Fixture> {
  return parseFixture(await readRepoFile(`tests/fixtures/${name}`));
}

export async function loadDumpAsync(name: string): Promise<Dump> {
  return dumpFromFixture(await loadFixtureAsync(name));
}

let weights: Promise<TextWeights> | undefined;
export function toyClipWeightsAsync(): Promise<TextWeights> {
  weights ??= (async () => {
    const onnx = await readRepoFile(`${TOY_CLIP_DIR}/onnx/text_model.onnx`);
    const buf = onnx.buffer.slice(onnx.byteOffset, onnx.byteOffset + onnx.byteLength) as ArrayBuffer;
    return loadTextWeights(buf, await readRepoJson(`${TOY_CLIP_DIR}/config.json`));
  })();
  return weights;
}
