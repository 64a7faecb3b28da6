/**
 * The command line's image-feature cache directory, and the one rule that keeps `coop cache clear` from ever
 * deleting someone else's files: a directory is ours only when it holds our marker file, which is written only into
 * a directory we created, one that was empty, or one that holds nothing but our own cache folders. Clearing removes
 * only our cache folders (named by a vision-model fingerprint) from a marked directory, never the directory itself,
 * never anything else in it, and never follows a link.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const CACHE_MARKER = '.coop-playground-cache';

/** Our cache folders: the first 16 hex digits of the vision model's fingerprint (src/cli/image-features.ts). */
const OURS = /^[0-9a-f]{16}$/;

const isOurFolder = (dir: string, name: string) => OURS.test(name) && lstatSync(path.join(dir, name)).isDirectory();

function writeMarker(dir: string): void {
  writeFileSync(path.join(dir, CACHE_MARKER), `CoOp Playground image-feature cache (npm run coop). \`npm run coop -- cache clear\` deletes its fingerprint folders.\n`);
}

/**
 * Makes `dir` ready to hold cached features. Returns a note when the directory holds other files (it is used, but
 * not marked, so it can never be cleared by us).
 */
export function prepareCacheDir(dir: string): string | null {
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true });
    writeMarker(dir);
    return null;
  }
  if (!statSync(dir).isDirectory()) throw new Error(`--cache ${dir} is not a directory; give a directory for the image-feature cache`);
  if (existsSync(path.join(dir, CACHE_MARKER))) return null;
  const entries = readdirSync(dir);
  if (entries.every((name) => isOurFolder(dir, name))) {
    // Empty, or a cache written before markers existed.
    writeMarker(dir);
    return null;
  }
  return `note: the cache directory ${dir} holds other files, so it is used but not marked as ours; \`coop cache clear\` will not touch it. Use an empty directory for the cache.`;
}

export interface ClearResult {
  removed: string[];
  /** Entries that are not ours, left in place. */
  kept: string[];
}

/** Deletes our cache folders from `dir`; refuses, deleting nothing, when `dir` is not marked as ours. */
export function clearCacheDir(dir: string): ClearResult {
  if (!existsSync(dir)) return { removed: [], kept: [] };
  const st = lstatSync(dir);
  if (st.isSymbolicLink()) throw new Error(`${dir} is a symbolic link; nothing was deleted (give the directory it points to, if that is the cache)`);
  if (!st.isDirectory()) throw new Error(`${dir} is not a directory; nothing was deleted`);
  if (!existsSync(path.join(dir, CACHE_MARKER))) {
    throw new Error(
      `${dir} is not a CoOp Playground cache (it has no ${CACHE_MARKER} file): nothing was deleted. ` +
        'Only a directory the command line created as its cache is cleared; delete this one yourself if you mean to.',
    );
  }
  const removed: string[] = [];
  const kept: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === CACHE_MARKER) continue;
    if (isOurFolder(dir, name)) {
      // rmSync removes links inside as links; it never follows them out of the folder.
      rmSync(path.join(dir, name), { recursive: true, force: true });
      removed.push(name);
    } else kept.push(name);
  }
  return { removed, kept };
}
