/**
 * Hostile project zips (issue 22): bombs by ratio and by declared size, a central directory that lies, a total over
 * the cap, an image header claiming 60,000 × 60,000 pixels; then mutated valid projects under fast-check, each ending
 * in a project or a refusal, never a throw.
 */
import fc from 'fast-check';
import { strToU8, unzipSync, zipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { LIMITS } from '../../src/input-limits';
import { readProject, writeProject } from '../../src/session/project-file';
import { FP, project } from '../helpers/project-fixture';
import { byteMutations, jsonMutations, mutateBytes, mutateJson, timed } from './mutate';
import { pngHeader } from './png';

const opts = { fileName: 'p.zip', hasModel: (folder: string) => folder === 'toy-clip', promptModel: () => ({ id: 'toy-clip', fingerprint: FP, width: 4 }) };
const err = (b: Uint8Array) => {
  const r = readProject(b, opts);
  return r.ok ? 'accepted' : r.error;
};

/** Central directory records (PK\x01\x02) of a zip, by offset. */
function centralRecords(zip: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i + 4 <= zip.length; i++) if (zip[i] === 0x50 && zip[i + 1] === 0x4b && zip[i + 2] === 1 && zip[i + 3] === 2) out.push(i);
  return out;
}
const nameAt = (zip: Uint8Array, rec: number) => new TextDecoder().decode(zip.subarray(rec + 46, rec + 46 + (zip[rec + 28] | (zip[rec + 29] << 8))));

/** The zip with an entry's declared sizes rewritten in the central directory (the local header is left as it was). */
function declare(zip: Uint8Array, entry: string, sizes: { original?: number; compressed?: number }): Uint8Array {
  const out = zip.slice();
  const v = new DataView(out.buffer);
  const rec = centralRecords(out).find((r) => nameAt(out, r) === entry);
  if (rec === undefined) throw new Error(`no ${entry}`);
  if (sizes.compressed !== undefined) v.setUint32(rec + 20, sizes.compressed, true);
  if (sizes.original !== undefined) v.setUint32(rec + 24, sizes.original, true);
  return out;
}

let valid: Uint8Array;
let files: Record<string, Uint8Array>;
let json: Record<string, unknown>;
beforeAll(async () => {
  valid = await writeProject(project());
  files = unzipSync(valid);
  json = JSON.parse(new TextDecoder().decode(files['project.json']));
});

describe('hostile project files are refused before anything inflates', () => {
  it('a zip bomb by ratio: 32 MiB of zeros stored in ~32 KB as an "image"', () => {
    const bomb = zipSync({ ...files, 'images/00001-a.png': [new Uint8Array(32 * 1024 * 1024), { level: 9 }] });
    expect(bomb.length).toBeLessThan(200_000);
    expect(err(bomb)).toMatch(/^images\/00001-a\.png in p\.zip, compressed \d+:1 \(.* inflating to 32 MiB\), is a compression ratio no image or project\.json has, over the limit of 100:1; the file is made to exhaust memory \(a zip bomb\), not a project\. Nothing was opened; the current session is kept\.$/);
  });

  it('an entry declaring 1 GiB, and project.json declaring more than its cap', () => {
    expect(err(declare(valid, 'images/00002-b.jpg', { original: 2 ** 30 }))).toBe(
      'images/00002-b.jpg in p.zip (inflated) is 1 GiB, over the limit of 100 MiB; the file is not a project this app can open. Nothing was opened; the current session is kept.',
    );
    expect(err(declare(valid, 'project.json', { original: 65 * 2 ** 20 }))).toMatch(/^project\.json in p\.zip \(inflated\) is 65 MiB, over the limit of 64 MiB/);
  });

  it('compressed sizes that do not fit in the file are a damaged zip, not a ratio to believe', () => {
    expect(err(declare(valid, 'images/00002-b.jpg', { original: 99 * 2 ** 20, compressed: 99 * 2 ** 20 }))).toMatch(/^p\.zip is not a readable zip file \(damaged or cut short: its central directory declares 99 MiB of entries in a file of/);
  });

  it('a total over the cap, each entry within its own (25 x 1 MiB stored, each declaring 99 MiB)', () => {
    const many: Record<string, Uint8Array | [Uint8Array, { level: 0 }]> = { ...files };
    for (let i = 0; i < 25; i++) many[`images/x${i}.png`] = [new Uint8Array(2 ** 20), { level: 0 }];
    let zip: Uint8Array = zipSync(many);
    for (let i = 0; i < 25; i++) zip = declare(zip, `images/x${i}.png`, { original: 99 * 2 ** 20 });
    expect(err(zip)).toMatch(/^p\.zip inflated \(all entries together\) is 2\.4 GiB, over the limit of 2 GiB; split the project, or save it with fewer images/);
  });

  it('many small entries, each under the ratio check\'s floor, are held together to the file size times the ratio', () => {
    const many: Record<string, Uint8Array> = { ...files };
    for (let i = 0; i < 100; i++) many[`images/x${i}.png`] = new Uint8Array(4);
    let zip: Uint8Array = zipSync(many);
    for (let i = 0; i < 100; i++) zip = declare(zip, `images/x${i}.png`, { original: 2 ** 20 });
    expect(err(zip)).toMatch(/^p\.zip inflated \(all entries together\) is 100 MiB, over the limit of 6\d\.\d MiB for a file of \d+\.\d KiB \(100:1, plus 64 MiB\); the file is made to exhaust memory \(a zip bomb\), not a project\./);
  });

  it('a central directory that declares less than the data inflates to: the entry is held to its declared size', () => {
    const liar = declare(zipSync({ ...files, 'images/00001-a.png': [new Uint8Array(8 * 1024 * 1024), { level: 9 }] }), 'images/00001-a.png', { original: 1000 });
    const r = readProject(liar, opts);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.project.images.find((i) => i.key === 'images/00001-a.png')!.blob.size).toBe(1000);
  });

  it('an image whose PNG header claims 60,000 × 60,000 pixels', () => {
    expect(err(zipSync({ ...files, 'images/00001-a.png': pngHeader(60_000, 60_000) }))).toBe(
      'images/00001-a.png in p.zip is 60000×60000 pixels by its header (3600 megapixels), over the limit of 50 megapixels; the app decodes no larger image. Nothing was opened; the current session is kept.',
    );
  });

  it('entry names that are Object.prototype keys are missing files, not prototype lookups', () => {
    const j = { ...json, classes: [{ name: 'x', images: [{ file: 'constructor', name: 'c', split: 'train' }] }] };
    expect(err(zipSync({ ...files, 'project.json': strToU8(JSON.stringify(j)) }))).toMatch(/constructor is listed in project\.json but missing from the zip/);
  });

  it('the limits are what docs/hostile-files.md says', () => {
    expect([LIMITS.projectJsonBytes, LIMITS.projectImageBytes, LIMITS.projectTotalBytes, LIMITS.projectRatio, LIMITS.projectEntries]).toEqual([64 * 2 ** 20, 100 * 2 ** 20, 2 * 2 ** 30, 100, 100_000]);
  });
});

describe('mutated valid projects (fast-check)', () => {
  const check = (bytes: Uint8Array, slowest: { ms: number }) => {
    const [r, ms] = timed(() => readProject(bytes, opts));
    slowest.ms = Math.max(slowest.ms, ms);
    expect(typeof r.ok).toBe('boolean');
    if (!r.ok) expect(r.error.length).toBeGreaterThan(10);
  };

  it('bytes flipped, cut, spliced or stamped with large sizes anywhere, and in the central directory: a project or a refusal', () => {
    const slowest = { ms: 0 };
    const tail = () => valid.length - Math.min(valid.length, 400);
    fc.assert(
      fc.property(byteMutations, fc.boolean(), (muts, inTail) => {
        const b = inTail ? Uint8Array.from([...valid.subarray(0, tail()), ...mutateBytes(valid.subarray(tail()), muts)]) : mutateBytes(valid, muts);
        check(b, slowest);
      }),
      { numRuns: 400, seed: 22 },
    );
    console.log(`project file, byte mutations: slowest case ${slowest.ms.toFixed(1)} ms`);
  });

  it("a successor's run (extras, method, Adam's state) with project.json values replaced, removed or repeated: a project or a refusal", async () => {
    const p = project();
    const run = p.runs[0];
    const extras = [
      { name: 'mlp.0.weight', shape: [2, 4], data: Float32Array.from({ length: 8 }, (_, i) => i / 9), lrScale: 6.5 },
      { name: 'mlp.0.bias', shape: [2], data: Float32Array.of(0.5, -0.5) },
    ];
    const context = { ...run.view!.context!, extras };
    const adam = [8, 8, 2].map((n) => ({ step: 2, expAvg: new Float32Array(n).fill(0.1), expAvgSq: new Float32Array(n).fill(0.01) }));
    p.runs[0] = {
      ...run,
      settings: { ...run.settings, optimizer: 'adam' },
      method: { name: 'tcp', settings: { block: 1, template: 'a photo of a {}.' } },
      view: { ...run.view!, context },
      checkpoint: { ...run.checkpoint!, context, momentum: null, adam },
    };
    const succ = unzipSync(await writeProject(p));
    const succJson = JSON.parse(new TextDecoder().decode(succ['project.json']));
    expect(readProject(zipSync(succ), opts).ok).toBe(true);
    const slowest = { ms: 0 };
    fc.assert(
      fc.property(jsonMutations, (muts) => {
        check(zipSync({ ...succ, 'project.json': [strToU8(JSON.stringify(mutateJson(succJson, muts))), { level: 0 }] }), slowest);
      }),
      { numRuns: 200, seed: 19 },
    );
    console.log(`project file with a successor's run, project.json mutations: slowest case ${slowest.ms.toFixed(1)} ms`);
  });

  it('project.json with values replaced, removed or repeated: a project or a refusal', () => {
    const slowest = { ms: 0 };
    fc.assert(
      fc.property(jsonMutations, (muts) => {
        check(zipSync({ ...files, 'project.json': [strToU8(JSON.stringify(mutateJson(json, muts))), { level: 0 }] }), slowest);
      }),
      { numRuns: 200, seed: 22 },
    );
    console.log(`project file, project.json mutations: slowest case ${slowest.ms.toFixed(1)} ms`);
  });
});

describe('deeply nested project.json', () => {
  it('a run nested 200,000 deep is refused with a message, not a stack overflow', () => {
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    const text = JSON.stringify({ ...json, runs: ['DEEP'] }).replace('"DEEP"', deep);
    expect(err(zipSync({ ...files, 'project.json': [strToU8(text), { level: 0 }] }))).toBe('project.json in p.zip nests its values deeper than any project: it is not one this app wrote.');
  });
});
