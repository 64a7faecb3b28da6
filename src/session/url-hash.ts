/**
 * The prompt design and training settings in the URL hash, as TensorFlow Playground keeps its settings: a copied
 * link opens with the same settings. The hash is `#<section>&m=16&csc=0&…`; the section comes first so that
 * plain `#train` links keep working. Images never go into the URL.
 */
import type { ClassTokenPosition, TrainSettings } from '../coop/settings';
import { LIMITS } from '../input-limits';

export interface HashSettings {
  settings: Partial<TrainSettings>;
  position?: ClassTokenPosition;
}

const POSITIONS: readonly ClassTokenPosition[] = ['end', 'middle', 'front'];

/** The section named in the hash ('' when none). */
export function hashSection(hash: string): string {
  const first = hash.replace(/^#/, '').split('&', 1)[0];
  if (first.includes('=') || first.length > 100) return '';
  try {
    return decodeURIComponent(first);
  } catch {
    // A link with a stray % ("#train%") names no section; the page shows its default one.
    return '';
  }
}

function positiveInt(v: string, max: number): number | undefined {
  const n = Number(v);
  return Number.isInteger(n) && n >= 1 && n <= max ? n : undefined;
}

/** The settings a hash carries; values that do not parse are left out (the page keeps its own). */
export function parseHashSettings(hash: string): HashSettings {
  // A link is typed or pasted by a person: one far longer than any settings hash is not read at all.
  if (hash.length > LIMITS.hashChars) return { settings: {} };
  const params = new URLSearchParams(hash.replace(/^#/, '').split('&').filter((p) => p.includes('=')).join('&'));
  const settings: Partial<TrainSettings> = {};
  const set = <K extends keyof TrainSettings>(k: K, v: TrainSettings[K] | undefined) => {
    if (v !== undefined) settings[k] = v;
  };
  const get = (k: string) => params.get(k) ?? undefined;
  const m = get('m');
  if (m !== undefined) set('nCtx', positiveInt(m, 64));
  const csc = get('csc');
  if (csc === '1' || csc === '0') set('csc', csc === '1');
  const init = get('init');
  if (init === 'random' || init === 'words') set('init', init);
  const words = get('words');
  if (words !== undefined && words.trim() && words.length <= LIMITS.hashWordsChars) set('initWords', words);
  const lr = get('lr');
  if (lr !== undefined && Number.isFinite(Number(lr)) && Number(lr) > 0) set('lr', Number(lr));
  const epochs = get('epochs');
  if (epochs === 'auto') set('epochs', 'auto');
  else if (epochs !== undefined) set('epochs', positiveInt(epochs, 10_000));
  const bs = get('bs');
  if (bs !== undefined) set('batchSize', positiveInt(bs, 4096));
  const views = get('views');
  if (views !== undefined) set('views', positiveInt(views, 64));
  // Only Adam is written (formatHash): links made before the choice, and SGD's, stay as they were.
  const opt = get('opt');
  if (opt === 'sgd' || opt === 'adam') set('optimizer', opt);
  const seed = get('seed');
  if (seed !== undefined && Number.isInteger(Number(seed)) && Number(seed) >= 0) set('seed', Number(seed));
  const pos = get('pos') as ClassTokenPosition | undefined;
  const position = pos && POSITIONS.includes(pos) ? pos : undefined;
  if (position) settings.position = position;
  return { settings, position };
}

/** `#section&m=…`: the settings a person can set on the Train page. */
export function formatHash(section: string, s: TrainSettings, position: ClassTokenPosition): string {
  const params = new URLSearchParams({
    m: String(s.nCtx),
    csc: s.csc ? '1' : '0',
    pos: position,
    init: s.init,
    words: s.initWords,
    lr: String(s.lr),
    epochs: String(s.epochs),
    bs: String(s.batchSize),
    views: String(s.views),
    seed: String(s.seed),
  });
  if (s.optimizer === 'adam') params.set('opt', 'adam');
  return `#${section ? encodeURIComponent(section) + '&' : ''}${params.toString()}`;
}

/** The hash with its section replaced and its settings kept. */
export function withSection(hash: string, section: string): string {
  const rest = hash.replace(/^#/, '').split('&').filter((p) => p.includes('='));
  return `#${[encodeURIComponent(section), ...rest].join('&')}`;
}
