/**
 * One vocabulary entry as a person can read it (the nearest-token table): CLIP's byte-level BPE stores tokens as
 * byte symbols, so a token can be part of a multi-byte UTF-8 character, which plain decoding shows as '�'.
 * Here each complete, printable UTF-8 character shows as itself, every other byte as `<0xE2>`, and a trailing
 * `</w>` (the token ends a word) stays visible as `</w>`.
 */
import { BYTE_DECODER } from './bytes';

const WORD_END = '</w>';

function hex(b: number): string {
  return `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;
}

/** Expected length of a UTF-8 sequence from its lead byte; 0 for a byte that cannot lead one. */
function seqLength(b: number): number {
  if (b < 0x80) return 1;
  if (b >= 0xc2 && b <= 0xdf) return 2;
  if (b >= 0xe0 && b <= 0xef) return 3;
  if (b >= 0xf0 && b <= 0xf4) return 4;
  return 0;
}

const strict = new TextDecoder('utf-8', { fatal: true });

function printable(ch: string): boolean {
  // Controls, separators other than a plain space, format characters and unassigned code points are not.
  return !/[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}]/u.test(ch) && ch !== '\u00a0' && ch.trim() === ch;
}

/** Bytes of a token (its byte symbols), or null when a symbol is not one of CLIP's 256 (e.g. <|startoftext|>). */
function tokenBytes(symbols: string): number[] | null {
  const out: number[] = [];
  for (const c of symbols) {
    const b = BYTE_DECODER.get(c);
    if (b === undefined) return null;
    out.push(b);
  }
  return out;
}

export function readableBytes(bytes: ArrayLike<number>): string {
  let out = '';
  for (let i = 0; i < bytes.length; ) {
    const n = seqLength(bytes[i]);
    if (n > 0 && i + n <= bytes.length) {
      try {
        const ch = strict.decode(Uint8Array.from(Array.prototype.slice.call(bytes, i, i + n) as number[]));
        if (printable(ch)) {
          out += ch;
          i += n;
          continue;
        }
      } catch {
        // not a valid sequence: fall through to a byte
      }
    }
    out += hex(bytes[i]);
    i++;
  }
  return out;
}

/** `tokenString` is the raw vocabulary entry (ClipTokenizer.tokenString), e.g. 'cat</w>' or 'âĢ'. */
export function readableToken(tokenString: string): string {
  const end = tokenString.endsWith(WORD_END);
  const body = end ? tokenString.slice(0, -WORD_END.length) : tokenString;
  const bytes = tokenBytes(body);
  // Special tokens (<|startoftext|>) are not byte symbols: shown as they are.
  if (!bytes) return tokenString;
  return readableBytes(bytes) + (end ? WORD_END : '');
}
