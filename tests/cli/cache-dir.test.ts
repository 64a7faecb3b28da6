/** `coop cache clear` never deletes a directory that is not ours (issue 22). */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CACHE_MARKER, clearCacheDir, prepareCacheDir } from '../../src/cli/cache-dir';
import { main } from '../../src/cli/main';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'coop-cache-dir-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const fp = 'a1b2c3d4e5f60718';

describe('the feature cache directory', () => {
  it('marks a directory it creates, and clears only its fingerprint folders', () => {
    const dir = path.join(tmp, 'new-cache');
    expect(prepareCacheDir(dir)).toBeNull();
    expect(existsSync(path.join(dir, CACHE_MARKER))).toBe(true);
    mkdirSync(path.join(dir, fp, 'ab'), { recursive: true });
    writeFileSync(path.join(dir, fp, 'ab', 'x.clean.f32'), new Uint8Array(8));
    writeFileSync(path.join(dir, 'notes.txt'), 'mine');
    const r = clearCacheDir(dir);
    expect(r).toEqual({ removed: [fp], kept: ['notes.txt'] });
    expect(readdirSync(dir).sort()).toEqual([CACHE_MARKER, 'notes.txt'].sort());
  });

  it('uses but never marks a directory holding other files, and refuses to clear it', () => {
    const home = path.join(tmp, 'home');
    mkdirSync(path.join(home, 'Documents'), { recursive: true });
    writeFileSync(path.join(home, 'thesis.tex'), 'precious');
    expect(prepareCacheDir(home)).toMatch(/holds other files, so it is used but not marked/);
    mkdirSync(path.join(home, fp));
    expect(() => clearCacheDir(home)).toThrow(/is not a CoOp Playground cache \(it has no \.coop-playground-cache file\): nothing was deleted/);
    expect(readdirSync(home).sort()).toEqual(['Documents', fp, 'thesis.tex']);
  });

  it('marks a cache from before markers (only fingerprint folders), and an empty directory', () => {
    const old = path.join(tmp, 'old');
    mkdirSync(path.join(old, fp), { recursive: true });
    expect(prepareCacheDir(old)).toBeNull();
    expect(existsSync(path.join(old, CACHE_MARKER))).toBe(true);
    const empty = path.join(tmp, 'empty');
    mkdirSync(empty);
    expect(prepareCacheDir(empty)).toBeNull();
    expect(existsSync(path.join(empty, CACHE_MARKER))).toBe(true);
  });

  it('never follows a link: a linked cache directory, or a fingerprint-named link inside one', () => {
    const target = path.join(tmp, 'target');
    mkdirSync(path.join(target, 'keep'), { recursive: true });
    const cache = path.join(tmp, 'linked');
    prepareCacheDir(cache);
    symlinkSync(target, path.join(cache, fp));
    expect(clearCacheDir(cache)).toEqual({ removed: [], kept: [fp] });
    expect(existsSync(path.join(target, 'keep'))).toBe(true);
    const link = path.join(tmp, 'link-to-cache');
    symlinkSync(cache, link);
    expect(() => clearCacheDir(link)).toThrow(/is a symbolic link; nothing was deleted/);
  });

  it('`coop cache clear --cache DIR` refuses a directory that is not ours with a clear message and exit code 1', async () => {
    const other = path.join(tmp, 'other');
    mkdirSync(other);
    writeFileSync(path.join(other, 'data.bin'), 'x');
    let err = '';
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string | Uint8Array) => ((err += String(s)), true)) as typeof process.stderr.write;
    try {
      expect(await main(['cache', 'clear', '--cache', other])).toBe(1);
    } finally {
      process.stderr.write = write;
    }
    expect(err).toMatch(/coop cache: .*other is not a CoOp Playground cache.*nothing was deleted/);
    expect(readdirSync(other)).toEqual(['data.bin']);
  });
});
