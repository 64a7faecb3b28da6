import { htmlUnescape } from './htmlUnescape';

// Python's `regex` module (which CLIP imports as `re`) gives `\s` the Unicode White_Space set. JS `\s`
// differs: it adds U+FEFF and lacks U+0085, so the class is written out.
const WS = '\\t\\n\\v\\f\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

// str.strip() uses str.isspace(), which also covers the separators U+001C..U+001F.
const STRIP_CHARS = new RegExp(`^[${WS}\\x1c-\\x1f]+|[${WS}\\x1c-\\x1f]+$`, 'gu');
const WS_RUN = new RegExp(`[${WS}]+`, 'gu');

/** CLIP's basic_clean + whitespace_clean + lower(), minus ftfy. */
export function cleanText(text: string): string {
  const unescaped = htmlUnescape(htmlUnescape(text)).replace(STRIP_CHARS, '');
  return unescaped.replace(WS_RUN, ' ').replace(STRIP_CHARS, '').toLowerCase();
}

// CLIP's pre-tokenizer. The `i` flag matters even after lowercasing: with Unicode case folding, e.g.
// `'ſ` (long s) matches the `'s` alternative, as it does under Python regex's IGNORECASE.
const PRETOKEN = new RegExp(
  `<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^${WS}\\p{L}\\p{N}]+`,
  'giu',
);

// U+0345 (combining ypogegrammeni) folds to a Greek letter, so under IGNORECASE Python's regex matches it with
// neither `[\p{L}]` nor its complement and findall skips it. JS puts it in the letter class. A space behaves
// like it there (it matches nothing, and splits runs), and a lookahead cannot exclude it without `i` side effects.
const YPOGEGRAMMENI = /\u0345/g;

export function preTokenize(cleaned: string): string[] {
  return cleaned.replace(YPOGEGRAMMENI, ' ').match(PRETOKEN) ?? [];
}
