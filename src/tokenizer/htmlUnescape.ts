import { ENTITY_TABLE, LEGACY_NAMES } from './htmlEntities';

// Mirrors Python's html.unescape, which CLIP applies (twice) before tokenizing. Browsers' own entity
// decoding differs in corner cases (and is unavailable in workers), so the rules are spelled out here.

// Same alternatives as CPython's html._charref: decimal, hex, or up to 32 name characters; `;` optional.
const CHARREF = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/gu;

// Numeric references to C1 controls (and NUL/CR) are read as Windows-1252, per the HTML5 spec.
const INVALID_CHARREFS: Record<number, string> = {
  0x00: '\ufffd', 0x0d: '\r', 0x80: '\u20ac', 0x81: '\x81', 0x82: '\u201a', 0x83: '\u0192',
  0x84: '\u201e', 0x85: '\u2026', 0x86: '\u2020', 0x87: '\u2021', 0x88: '\u02c6', 0x89: '\u2030',
  0x8a: '\u0160', 0x8b: '\u2039', 0x8c: '\u0152', 0x8d: '\x8d', 0x8e: '\u017d', 0x8f: '\x8f',
  0x90: '\x90', 0x91: '\u2018', 0x92: '\u2019', 0x93: '\u201c', 0x94: '\u201d', 0x95: '\u2022',
  0x96: '\u2013', 0x97: '\u2014', 0x98: '\u02dc', 0x99: '\u2122', 0x9a: '\u0161', 0x9b: '\u203a',
  0x9c: '\u0153', 0x9d: '\x9d', 0x9e: '\u017e', 0x9f: '\u0178',
};

// Code points Python drops entirely: other controls, noncharacters.
function isDroppedCodePoint(cp: number): boolean {
  return (
    (cp >= 0x1 && cp <= 0x8) || cp === 0xb || (cp >= 0xe && cp <= 0x1f) || (cp >= 0x7f && cp <= 0x9f) ||
    (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe
  );
}

let named: Map<string, string> | null = null;
let legacy: Set<string> | null = null;

function tables(): { named: Map<string, string>; legacy: Set<string> } {
  if (!named || !legacy) {
    named = new Map();
    for (const entry of ENTITY_TABLE.split(' ')) {
      const [name, hex] = entry.split(':');
      named.set(name, String.fromCodePoint(...hex.split('+').map((h) => parseInt(h, 16))));
    }
    legacy = new Set(LEGACY_NAMES.split(' '));
  }
  return { named, legacy };
}

function numeric(ref: string): string {
  const body = ref.endsWith(';') ? ref.slice(0, -1) : ref;
  const hex = body[1] === 'x' || body[1] === 'X';
  // Long digit strings overflow to huge/Infinity, which lands in the out-of-range branch as in Python.
  const cp = hex ? parseInt(body.slice(2), 16) : Number(body.slice(1));
  if (cp in INVALID_CHARREFS) return INVALID_CHARREFS[cp];
  if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return '\ufffd';
  if (isDroppedCodePoint(cp)) return '';
  return String.fromCodePoint(cp);
}

function namedRef(ref: string): string {
  const t = tables();
  if (ref.endsWith(';')) {
    const hit = t.named.get(ref.slice(0, -1));
    if (hit !== undefined) return hit;
  } else if (t.legacy.has(ref)) {
    return t.named.get(ref)!;
  }
  // Only the legacy names may end without `;`, so only they can be a proper prefix (length >= 2, as Python).
  const chars = Array.from(ref);
  for (let n = chars.length - 1; n > 1; n--) {
    const prefix = chars.slice(0, n).join('');
    if (t.legacy.has(prefix)) return t.named.get(prefix)! + chars.slice(n).join('');
  }
  return '&' + ref;
}

export function htmlUnescape(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(CHARREF, (_m, ref: string) => (ref[0] === '#' ? numeric(ref) : namedRef(ref)));
}
