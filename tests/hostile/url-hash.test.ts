/**
 * Hostile links (issue 22): the URL hash is typed or pasted by anyone. Under fast-check, random and mutated hashes
 * never throw (a stray % once threw URIError from hashSection), and every setting read from one is in range.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { withDefaults } from '../../src/coop/settings';
import { formatHash, hashSection, parseHashSettings, withSection } from '../../src/session/url-hash';

const valid = formatHash('train', withDefaults({ nCtx: 4, csc: true, init: 'words', initWords: 'a photo of a', lr: 0.01, epochs: 3, batchSize: 8, views: 2, seed: 7 }), 'front');

function inRange(h: string): void {
  const { settings: s, position } = parseHashSettings(h);
  if (s.nCtx !== undefined) expect(Number.isInteger(s.nCtx) && s.nCtx >= 1 && s.nCtx <= 64).toBe(true);
  if (s.batchSize !== undefined) expect(s.batchSize >= 1 && s.batchSize <= 4096).toBe(true);
  if (s.views !== undefined) expect(s.views >= 1 && s.views <= 64).toBe(true);
  if (s.epochs !== undefined && s.epochs !== 'auto') expect(s.epochs >= 1 && s.epochs <= 10_000).toBe(true);
  if (s.lr !== undefined) expect(Number.isFinite(s.lr) && s.lr > 0).toBe(true);
  if (s.initWords !== undefined) expect(s.initWords.length).toBeLessThanOrEqual(1000);
  if (position !== undefined) expect(['end', 'middle', 'front']).toContain(position);
  expect(typeof hashSection(h)).toBe('string');
  expect(typeof withSection(h, 'zero-shot')).toBe('string');
}

describe('the URL hash', () => {
  it('a stray or broken % escape names no section instead of throwing', () => {
    expect(hashSection('#train%')).toBe('');
    expect(hashSection('#%E0%A4%A')).toBe('');
    expect(parseHashSettings('#train&m=%E0%A4%A&seed=3').settings).toEqual({ seed: 3 });
  });

  it('a hash far longer than any settings link is not read; long init words are left out', () => {
    expect(parseHashSettings(`#train&seed=3&pad=${'x'.repeat(10_000)}`).settings).toEqual({});
    expect(parseHashSettings(`#train&words=${'a'.repeat(1001)}&seed=3`).settings).toEqual({ seed: 3 });
  });

  it('random strings and mutated valid links (fast-check): never a throw, every value in range', () => {
    const chars = fc.constantFrom(...'&=#%?+ ,.-_09aAzZ~é\u0000\uffff'.split(''), '%2', '%E0', '%zz', 'm=', 'seed=', 'lr=', 'epochs=', 'bs=', 'views=', 'pos=', 'words=');
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.array(chars, { maxLength: 60 }).map((a) => `#${a.join('')}`), fc.tuple(fc.nat(), fc.string({ maxLength: 20 })).map(([at, s]) => valid.slice(0, at % valid.length) + s + valid.slice(at % valid.length))), inRange),
      { numRuns: 2000, seed: 22 },
    );
  });
});
