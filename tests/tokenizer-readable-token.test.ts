import { describe, expect, it } from 'vitest';
import { readableBytes, readableToken } from '../src/tokenizer/readable-token';
import { toByteSymbols } from '../src/tokenizer/bytes';

describe('readable nearest tokens', () => {
  it('keeps printable text and marks a word end with </w>', () => {
    expect(readableToken(toByteSymbols('cat') + '</w>')).toBe('cat</w>');
    expect(readableToken(toByteSymbols('ing'))).toBe('ing');
    expect(readableToken(toByteSymbols('café') + '</w>')).toBe('café</w>');
  });

  it('shows bytes of an incomplete UTF-8 character as <0xE2>-style hex', () => {
    // '…' is E2 80 A6: a token holding only its first two bytes.
    const sym = toByteSymbols('…');
    expect(readableToken(sym.slice(0, 2))).toBe('<0xE2><0x80>');
    expect(readableToken(sym)).toBe('…');
    expect(readableToken(sym.slice(2) + '</w>')).toBe('<0xA6></w>');
  });

  it('shows control and space bytes as hex, special tokens as they are', () => {
    expect(readableBytes([0x0a, 0x41, 0x20])).toBe('<0x0A>A<0x20>');
    expect(readableToken('<|startoftext|>')).toBe('<|startoftext|>');
  });
});
