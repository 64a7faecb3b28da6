import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  ClipTokenizer,
  cleanText,
  gunzipToText,
  htmlUnescape,
  preTokenize,
  tokenizerFromHfJson,
  tokenizerFromMergesText,
  type HfTokenizerJson,
} from '../src/tokenizer';

const root = path.resolve(__dirname, '..');
const sharedDir = path.resolve(root, '../shared/clip-tokenizer');
const casesPath = path.join(sharedDir, 'cases.jsonl');
const vocabPath = path.join(sharedDir, 'bpe_simple_vocab_16e6.txt.gz');
const toyPath = path.join(root, 'public/models/toy-clip/tokenizer.json');

const haveShared = existsSync(casesPath) && existsSync(vocabPath);
if (!haveShared) console.warn(`[tokenizer.test] skipping CLIP reference cases: ${sharedDir} is missing`);
const haveToy = existsSync(toyPath);
if (!haveToy) console.warn(`[tokenizer.test] skipping toy-clip tokenizer.json checks: ${toyPath} is missing`);

let clipTokenizer: ClipTokenizer | undefined;
function clip(): ClipTokenizer {
  clipTokenizer ??= tokenizerFromMergesText(gunzipSync(readFileSync(vocabPath)).toString('utf8'));
  return clipTokenizer;
}

describe.skipIf(!haveShared)('official CLIP vocabulary (shared/clip-tokenizer)', () => {
  it('has CLIP’s vocabulary layout', () => {
    const t = clip();
    expect(t.vocabSize).toBe(49408);
    expect([t.sosId, t.eosId]).toEqual([49406, 49407]);
    expect(t.tokenString(0)).toBe('!');
    expect(t.tokenString(256)).toBe('!</w>');
    expect(t.tokenString(320)).toBe('a</w>');
  });

  it('matches every reference case of the official encoder', () => {
    const t = clip();
    const lines = readFileSync(casesPath, 'utf8').split('\n').filter(Boolean);
    const failures: string[] = [];
    for (const line of lines) {
      const c = JSON.parse(line) as { text: string; kind: string; ids: number[] };
      const got = t.encode(c.text);
      if (got.length !== c.ids.length || got.some((id, i) => id !== c.ids[i])) {
        failures.push(`${c.kind} ${JSON.stringify(c.text).slice(0, 80)}: got ${JSON.stringify(got).slice(0, 80)}`);
      }
    }
    const passed = lines.length - failures.length;
    console.log(`[tokenizer.test] CLIP reference cases: ${passed}/${lines.length} passed`);
    expect(failures, `${passed}/${lines.length} cases passed; first failures:\n${failures.slice(0, 5).join('\n')}`)
      .toEqual([]);
    expect(lines.length).toBe(4140);
  });

  it('decodes back to the cleaned text, words ending in a space', () => {
    const t = clip();
    expect(t.decode(t.encode('A photo of a Pokémon, 東京の写真 🐱'))).toBe('a photo of a pokémon , 東京の写真 🐱 ');
  });

  it('gunzips the official file with DecompressionStream too', async () => {
    const text = await gunzipToText(readFileSync(vocabPath));
    expect(tokenizerFromMergesText(text).encode('a photo of a dog.')).toEqual(clip().encode('a photo of a dog.'));
  });
});

// A 3-merge vocabulary in CLIP's order: 256 bytes, 256 bytes + </w>, merges, then the two specials.
function tinyHfJson(mergesAsPairs = false): HfTokenizerJson {
  const printable: string[] = [];
  for (let c = 0x21; c <= 0x7e; c++) printable.push(String.fromCharCode(c));
  const vocab: Record<string, number> = {};
  // Only the symbols these tests touch need ids; the layout mimics CLIP's but is deliberately sparse.
  let id = 0;
  for (const s of printable) vocab[s] = id++;
  for (const s of printable) vocab[s + '</w>'] = id++;
  const merges: Array<[string, string]> = [['c', 'a'], ['ca', 't</w>'], ['d', 'o']];
  for (const [a, b] of merges) vocab[a + b] = id++;
  vocab['<|startoftext|>'] = id++;
  vocab['<|endoftext|>'] = id++;
  return {
    model: { vocab, merges: mergesAsPairs ? merges : merges.map(([a, b]) => `${a} ${b}`) },
  };
}

describe('tokenizer from a Hugging Face tokenizer.json', () => {
  it.each([false, true])('reads merges (as pairs: %s) and applies them by rank', (asPairs) => {
    const json = tinyHfJson(asPairs);
    const t = tokenizerFromHfJson(json);
    const v = json.model.vocab;
    expect(t.encode('Cat dog')).toEqual([v['cat</w>'], v['do'], v['g</w>']]);
    expect(t.sosId).toBe(v['<|startoftext|>']);
    expect(t.eosId).toBe(v['<|endoftext|>']);
    expect(t.vocabSize).toBe(Object.keys(v).length);
    expect(t.tokenString(v['cat</w>'])).toBe('cat</w>');
    expect(t.decode(t.encode('cat dog'))).toBe('cat dog ');
  });

  it('rejects a json without a BPE model', () => {
    expect(() => tokenizerFromHfJson({} as HfTokenizerJson)).toThrow(/model\.vocab/);
  });
});

describe('tokenize: padding, truncation, too-long text', () => {
  const t = tokenizerFromHfJson(tinyHfJson());

  it('wraps ids in start/end tokens and zero-pads to the context length', () => {
    const ids = t.encode('cat');
    const row = t.tokenize('cat');
    expect(row).toBeInstanceOf(Int32Array);
    expect(row.length).toBe(77);
    expect(Array.from(row.slice(0, 3))).toEqual([t.sosId, ...ids, t.eosId]);
    expect(row.slice(3).every((x) => x === 0)).toBe(true);
    expect(Array.from(t.tokenize('', { contextLength: 4 }))).toEqual([t.sosId, t.eosId, 0, 0]);
  });

  it('accepts text that exactly fills the context', () => {
    const row = t.tokenize(Array(75).fill('cat').join(' '));
    expect(row[76]).toBe(t.eosId);
  });

  it('throws with how many tokens too long', () => {
    const text = Array(80).fill('cat').join(' ');
    expect(() => t.tokenize(text)).toThrow('Text is 5 tokens too long (82 > 77)');
    expect(() => t.tokenize('cat cat cat', { contextLength: 4 })).toThrow('Text is 1 tokens too long (5 > 4)');
  });

  it('truncates to the first 76 tokens then EOS, as CLIP does', () => {
    const ids = t.encode(Array(40).fill('cat dog').join(' '));
    const row = t.tokenize(Array(40).fill('cat dog').join(' '), { truncate: true });
    expect(Array.from(row)).toEqual([t.sosId, ...ids.slice(0, 75), t.eosId]);
  });
});

describe('cleaning details of CLIP’s simple_tokenizer', () => {
  it('unescapes HTML like Python’s html.unescape', () => {
    expect(htmlUnescape('&amp;lt;b&amp;gt;')).toBe('&lt;b&gt;');
    expect(htmlUnescape('&notit; &notin; &ampx &#65;&#x42 &#0; &#128; &#1; &#xD800; &#1114112; &bogus;')).toBe(
      '¬it; ∉ &x AB \ufffd €  \ufffd \ufffd &bogus;',
    );
  });

  it.skipIf(!haveShared)('treats whitespace and case folding as Python’s regex module does', () => {
    const t = clip();
    // U+FEFF is not whitespace to Python; U+0085 is; `'ſ` takes the `'s` branch under IGNORECASE.
    expect(t.encode('a\u0085b')).toEqual(t.encode('a b'));
    expect(t.encode('a\ufeffb')).not.toEqual(t.encode('a b'));
    expect(preTokenize(cleanText("It'ſ"))).toEqual(['it', "'ſ"]);
    // U+0345 matches no branch in Python's regex, so it vanishes while still splitting words.
    expect(t.encode('a\u0345b')).toEqual(t.encode('a b'));
  });
});

describe.skipIf(!haveToy)('toy-clip tokenizer.json (public/models/toy-clip)', () => {
  const json = haveToy ? (JSON.parse(readFileSync(toyPath, 'utf8')) as HfTokenizerJson) : tinyHfJson();
  const t = tokenizerFromHfJson(json);
  const phrases = ['a photo of a red circle.', 'Two small blue squares!', 'a triangle and a star', 'hello zebra 42'];

  it('keeps CLIP’s layout: specials are the two largest ids', () => {
    expect([t.sosId, t.eosId]).toEqual([t.vocabSize - 2, t.vocabSize - 1]);
  });

  it('agrees with the same merges read in CLIP’s vocabulary order', () => {
    const merges = json.model.merges.map((m) => (Array.isArray(m) ? m.join(' ') : m));
    const viaMerges = tokenizerFromMergesText(`header\n${merges.join('\n')}`, merges.length);
    for (const p of phrases) expect(t.encode(p)).toEqual(viaMerges.encode(p));
  });

  it('round-trips phrases and leaves no mergeable pair', () => {
    const ranked = new Set(json.model.merges.map((m) => (Array.isArray(m) ? m.join(' ') : m)));
    for (const p of phrases) {
      const ids = t.encode(p);
      expect(ids.every((id) => id >= 0 && id < t.sosId)).toBe(true);
      expect(t.decode(ids).replaceAll(' ', '')).toBe(p.toLowerCase().replaceAll(' ', ''));
      const symbols = ids.map((id) => t.tokenString(id));
      for (let i = 0; i + 1 < symbols.length; i++) {
        if (!symbols[i].endsWith('</w>')) expect(ranked.has(`${symbols[i]} ${symbols[i + 1]}`)).toBe(false);
      }
    }
  });
});
