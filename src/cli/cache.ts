/** `npm run coop -- cache clear [--cache DIR]`: deletes cached image features, only from a directory that is ours. */
import { ArgError, str, type Parsed } from './args';
import { clearCacheDir } from './cache-dir';
import { defaultCacheDir } from './image-features';

export const CACHE_OPTIONS = { cache: 'value' } as const;

export function runCache(p: Parsed): void {
  if (p.positional.join(' ') !== 'clear') throw new ArgError(`cache: say what to do ('cache clear'), got '${p.positional.join(' ')}'`);
  const dir = str(p, 'cache') ?? defaultCacheDir();
  const { removed, kept } = clearCacheDir(dir);
  const cleared = removed.length ? `Cleared ${dir}: removed ${removed.length} model folder(s) (${removed.join(', ')}).` : `Nothing to clear in ${dir}.`;
  const others = kept.length ? ` Kept ${kept.length} entr${kept.length === 1 ? 'y' : 'ies'} that are not ours: ${kept.slice(0, 5).join(', ')}${kept.length > 5 ? ', …' : ''}.` : '';
  process.stdout.write(`${cleared}${others}\n`);
}
