// CLIP's byte-level alphabet: every byte gets a printable, non-space character so BPE symbols can be
// stored as plain strings. Printable Latin-1 bytes map to themselves; the rest are shifted to U+0100 upward.
function buildByteEncoder(): string[] {
  const keep: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) keep.push(b);
  for (let b = 0xa1; b <= 0xac; b++) keep.push(b);
  for (let b = 0xae; b <= 0xff; b++) keep.push(b);
  const table = new Array<string>(256);
  for (const b of keep) table[b] = String.fromCharCode(b);
  let shifted = 0;
  for (let b = 0; b < 256; b++) {
    if (table[b] === undefined) table[b] = String.fromCharCode(256 + shifted++);
  }
  return table;
}

export const BYTE_ENCODER: readonly string[] = buildByteEncoder();

export const BYTE_DECODER: ReadonlyMap<string, number> = new Map(BYTE_ENCODER.map((c, b) => [c, b]));

/** The 256 byte symbols in the order CLIP's vocabulary lists them (ascending code point of the symbol). */
export function byteSymbolsInVocabOrder(): string[] {
  // bytes_to_unicode's dict iterates in insertion order: the kept bytes first, then the shifted ones.
  const kept: string[] = [];
  const shifted: string[] = [];
  BYTE_ENCODER.forEach((c) => (c.charCodeAt(0) >= 256 ? shifted : kept).push(c));
  const byCode = (a: string, b: string) => a.charCodeAt(0) - b.charCodeAt(0);
  return [...kept.sort(byCode), ...shifted.sort(byCode)];
}

const utf8 = new TextEncoder();

export function toByteSymbols(word: string): string {
  let out = '';
  for (const b of utf8.encode(word)) out += BYTE_ENCODER[b];
  return out;
}

export function fromByteSymbols(symbols: string): string {
  const bytes: number[] = [];
  for (const c of symbols) {
    const b = BYTE_DECODER.get(c);
    if (b !== undefined) bytes.push(b);
  }
  // Non-fatal decoding replaces broken sequences with U+FFFD, like Python's errors="replace".
  return new TextDecoder('utf-8').decode(new Uint8Array(bytes));
}
