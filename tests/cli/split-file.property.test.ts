/**
 * Property: whatever a split file holds, the parsers end in a value or a DatasetError, never another exception, and a
 * value never carries a path that leaves the dataset folder. Inputs are valid files mutated (characters inserted,
 * deleted or replaced, entries edited into hostile paths) and arbitrary strings.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DatasetError, parseClassnames, parseFgvcSplit, parseSplitZhou, parseVariants, unsafeRelativePath } from '../../src/cli/datasets/split-file';

const VALID_SPLIT = JSON.stringify({
  train: [['banded/banded_0001.jpg', 0, 'banded'], ['bubbly/b.jpg', 1, 'bubbly']],
  val: [['banded/v.jpg', 0, 'banded']],
  test: [['bubbly/t.jpg', 1, 'bubbly']],
});
const VALID_VARIANTS = '707-320\nA300B4\nBAE 146-200\n';
const VALID_FGVC = '1000001 707-320\n1000002 BAE 146-200\n';
const VALID_NAMES = 'n01440764 tench\nn01443537 goldfish\n';
const HOSTILE = ['..', '../x.jpg', 'a/../../b', '/etc/passwd', 'C:\\x', 'a\\b', 'a\0b', '', './a', 'a//b', '\u2025/x'];

/** A string edited at a few random places: insertions of JSON-ish and path-ish characters, deletions, swaps. */
const mutated = (valid: string) =>
  fc
    .array(fc.tuple(fc.nat(valid.length), fc.nat(3), fc.constantFrom('"', ',', '[', ']', '{', '}', '.', '/', '\\', '\0', '\n', ' ', '0', '-1', '..', '1e309', 'null')), { maxLength: 6 })
    .map((edits) => {
      let s = valid;
      for (const [at, del, ins] of edits) {
        const i = Math.min(at, s.length);
        s = s.slice(0, i) + ins + s.slice(i + del);
      }
      return s;
    });

function endsWell(f: () => unknown): unknown {
  try {
    return f();
  } catch (e) {
    expect(e, String(e)).toBeInstanceOf(DatasetError);
    return null;
  }
}

const paths = (v: unknown): string[] => {
  if (!v || typeof v !== 'object') return [];
  if (v instanceof Map) return [...v.keys()];
  return Object.values(v as Record<string, [string, number, string][] | null>).flatMap((rows) => (rows ?? []).map((r) => r[0]));
};

describe('split-file parsers under mutation (fast-check)', () => {
  it('split_zhou JSON: a value with safe paths, or a DatasetError', () => {
    fc.assert(
      fc.property(fc.oneof(mutated(VALID_SPLIT), fc.string()), (text) => {
        const v = endsWell(() => parseSplitZhou(text, 'split.json'));
        for (const p of paths(v)) expect(unsafeRelativePath(p), p).toBeNull();
      }),
      { numRuns: 1500 },
    );
  });

  it('split_zhou JSON: any hostile path in any entry is refused with its entry', () => {
    fc.assert(
      fc.property(fc.constantFrom('train', 'val', 'test'), fc.nat(), fc.constantFrom(...HOSTILE.filter((h) => unsafeRelativePath(h))), (split, i, bad) => {
        const s = JSON.parse(VALID_SPLIT);
        const rows = s[split];
        rows[i % rows.length][0] = bad;
        expect(() => parseSplitZhou(JSON.stringify(s), 'split.json')).toThrow(new RegExp(`"${split}" entry ${i % rows.length}: the image path .* is refused`));
      }),
    );
  });

  it("FGVC's txt files and ImageNet's classnames.txt: a value with safe names, or a DatasetError", () => {
    fc.assert(
      fc.property(mutated(VALID_VARIANTS), mutated(VALID_FGVC), mutated(VALID_NAMES), (variants, fgvc, names) => {
        const vs = endsWell(() => parseVariants(variants, 'variants.txt')) as string[] | null;
        const rows = endsWell(() => parseFgvcSplit(fgvc, 'images_variant_train.txt', vs ?? ['707-320', 'BAE 146-200']));
        for (const p of paths({ rows })) expect(unsafeRelativePath(p), p).toBeNull();
        const m = endsWell(() => parseClassnames(names, 'classnames.txt'));
        for (const p of paths(m)) expect(unsafeRelativePath(p) ?? (p.includes('/') ? 'slash' : null), p).toBeNull();
      }),
      { numRuns: 1500 },
    );
  });
});
