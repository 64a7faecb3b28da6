import { describe, expect, it } from 'vitest';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { withDefaults } from '../src/coop/settings';
import { checkRun } from '../src/session/records';
import { readProject, writeProject } from '../src/session/project-file';
import { FP, project } from './helpers/project-fixture';
import { formatHash, hashSection, parseHashSettings, withSection } from '../src/session/url-hash';
import { isQuotaError, saveErrorMessage } from '../src/session/storage';

describe('settings in the URL hash', () => {
  it('round-trips every setting a person sets, after the section', () => {
    const s = withDefaults({ nCtx: 4, csc: true, init: 'words', initWords: 'a photo of a', lr: 0.01, epochs: 3, batchSize: 8, views: 2, seed: 7 });
    const hash = formatHash('train', s, 'front');
    expect(hashSection(hash)).toBe('train');
    const back = parseHashSettings(hash);
    expect(back.position).toBe('front');
    expect(back.settings).toMatchObject({ nCtx: 4, csc: true, init: 'words', initWords: 'a photo of a', lr: 0.01, epochs: 3, batchSize: 8, views: 2, seed: 7 });
    expect(parseHashSettings(formatHash('', withDefaults(), 'end')).settings.epochs).toBe('auto');
  });

  it('keeps plain section links working and ignores values that do not parse', () => {
    expect(hashSection('#zero-shot')).toBe('zero-shot');
    expect(parseHashSettings('#train').settings).toEqual({});
    expect(parseHashSettings('#train&m=-3&lr=abc&bs=0&csc=maybe&epochs=2.5&seed=4').settings).toEqual({ seed: 4 });
    expect(withSection('#train&m=4&seed=2', 'zero-shot')).toBe('#zero-shot&m=4&seed=2');
  });
});

describe('a failed save', () => {
  it('says plainly that the storage is full, with the use, and that earlier saves are kept', () => {
    const e = new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    expect(isQuotaError(e)).toBe(true);
    expect(saveErrorMessage('2 new images', e, { usage: 5 * 1024 ** 2, quota: 6 * 1024 ** 2, persisted: false })).toBe(
      "Could not save 2 new images: the browser's storage for this site is full (5.0 MB used of 6.0 MB). Everything saved before is kept. Delete runs or images, or save the project to a file, to free space.",
    );
    expect(saveErrorMessage('the run', new Error('disk on fire'))).toBe('Could not save the run: disk on fire. Everything saved before is kept.');
  });
});

const opts = { fileName: 'p.zip', hasModel: (folder: string) => folder === 'toy-clip' };

describe('project files', () => {
  it('round-trip classes, images (bytes), settings and runs with their curves, results and checkpoint, bit for bit', async () => {
    const p = project();
    const bytes = await writeProject(p);
    const files = unzipSync(bytes);
    expect(Object.keys(files).sort()).toEqual(['images/00001-a.png', 'images/00002-b.jpg', 'images/00003-c.png', 'project.json', 'runs/r1.prompt.json']);
    const r = readProject(bytes, { ...opts, promptModel: () => ({ id: 'toy-clip', fingerprint: FP, width: 4 }) });
    if (!r.ok) throw new Error(r.error);
    expect(r.project.workspace.classes.map((c) => c.name)).toEqual(['circle', 'square']);
    // Base-to-new marks travel; a class without one (as in projects saved before them) stays base.
    expect(r.project.workspace.classes.map((c) => c.new)).toEqual([undefined, true]);
    expect(JSON.parse(strFromU8(files['project.json'])).classes.map((c: { new?: boolean }) => c.new)).toEqual([undefined, true]);
    expect(r.project.images.map((i) => i.name)).toEqual(['a.png', 'b.jpg', 'c.png']);
    expect(await r.project.images[1].blob.text()).toBe('BB');
    const run = r.project.runs[0];
    expect(run.loss).toEqual(p.runs[0].loss);
    expect(run.view!.context!.data).toEqual(p.runs[0].view!.context!.data);
    expect(run.checkpoint!.momentum).toEqual(p.runs[0].checkpoint!.momentum);
    expect(run.view!.labels.test).toEqual(Int32Array.from([1]));
    expect(checkRun(run)).toBeNull();
  });

  it('refuses, each with its own message, a damaged zip, no project.json, another format or version, a missing image, an unavailable model', async () => {
    const bytes = await writeProject(project());
    const files = unzipSync(bytes);
    const json = JSON.parse(new TextDecoder().decode(files['project.json']));
    const remake = (patch: object, drop?: string) => {
      const f: Record<string, Uint8Array> = { ...files, 'project.json': strToU8(JSON.stringify({ ...json, ...patch })) };
      if (drop) delete f[drop];
      return zipSync(f);
    };
    const err = (b: Uint8Array) => {
      const r = readProject(b, opts);
      return r.ok ? 'accepted' : r.error;
    };
    expect(err(bytes.subarray(0, 100))).toMatch(/^p\.zip is not a readable zip file \(damaged or cut short/);
    expect(err(strToU8('{"format":"coop-prompt"}'))).toMatch(/is a JSON file, not a project/);
    expect(err(zipSync({ 'a.txt': strToU8('x') }))).toBe('p.zip is a zip without project.json: it is not a CoOp Playground project.');
    expect(err(remake({ format: 'other' }))).toBe('p.zip is a "other" file, not a CoOp Playground project (format "coop-project").');
    expect(err(remake({ version: 2 }))).toBe('p.zip is a version 2 project; this app reads version 1: it was saved by a newer version of the app.');
    expect(err(remake({}, 'images/00002-b.jpg'))).toBe('p.zip is damaged: images/00002-b.jpg is listed in project.json but missing from the zip.');
    expect(err(remake({ model: { id: 'vit-b-16', folder: 'clip-b16', fingerprint: '' } }))).toBe(
      'p.zip was made with the model "vit-b-16" (folder "clip-b16"), which is not available here. Add that model with the model picker, then open the project again.',
    );
  });

  it('a corrupt run record is named, not loaded', () => {
    const run = project().runs[0];
    expect(checkRun({ ...run, loss: 'oops' })).toBe('no curves');
    expect(checkRun({ ...run, view: { ...run.view!, context: { ...run.view!.context!, data: new Float32Array(3) } } })).toMatch(/holds 3 values/);
    expect(checkRun({ ...run, checkpoint: { ...run.checkpoint!, momentum: new Float32Array(2) } })).toMatch(/momentum/);
  });
});
