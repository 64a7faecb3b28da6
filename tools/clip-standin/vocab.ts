/**
 * The stand-in's tokenizer.json: CLIP's real vocabulary (49,408 tokens from OpenAI's merges file) where
 * ../shared/clip-tokenizer holds it, else a synthetic one of the same size and structure (256 byte symbols,
 * the same with `</w>`, one token per merge, then SOS and EOS as the two largest ids), made deterministically
 * so CI without ../shared still gets the same folder every time.
 */
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { byteSymbolsInVocabOrder } from '../../src/tokenizer/bytes';
import { CLIP_MERGE_COUNT, clipVocabOrder, EOS_TOKEN, mergesFromText, SOS_TOKEN } from '../../src/tokenizer';

export type VocabKind = 'clip' | 'synthetic';

export interface Vocabulary {
  kind: VocabKind;
  merges: Array<[string, string]>;
  /** Tokens in id order; the last two are SOS and EOS. */
  tokens: string[];
}

export function clipVocabulary(gzPath: string): Vocabulary {
  const merges = mergesFromText(gunzipSync(readFileSync(gzPath)).toString('utf8'));
  return { kind: 'clip', merges, tokens: clipVocabOrder(merges) };
}

/**
 * `mergeCount` merges over the byte alphabet, drawn with a fixed seed: each joins a token that does not end
 * a word with any token, into a token not yet in the vocabulary, so BPE over it behaves as over CLIP's.
 */
export function syntheticVocabulary(mergeCount = CLIP_MERGE_COUNT, seed = 20240607): Vocabulary {
  let state = seed >>> 0;
  const next = () => {
    let t = (state = (state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const bytes = byteSymbolsInVocabOrder();
  const known = new Set<string>([...bytes, ...bytes.map((b) => b + '</w>')]);
  const lefts = [...bytes];
  const all = [...bytes, ...bytes.map((b) => b + '</w>')];
  const merges: Array<[string, string]> = [];
  // Squaring the draw favours early (short) tokens, so merged tokens stay word-sized as in a real vocabulary.
  const pick = (list: string[]) => list[Math.floor(next() ** 2 * list.length)];
  while (merges.length < mergeCount) {
    const a = pick(lefts);
    const b = pick(all);
    const t = a + b;
    if (known.has(t) || t.length > 24) continue;
    known.add(t);
    merges.push([a, b]);
    all.push(t);
    if (!t.endsWith('</w>')) lefts.push(t);
  }
  return { kind: 'synthetic', merges, tokens: clipVocabOrder(merges) };
}

/** A tokenizer.json as Hugging Face's CLIPTokenizerFast writes it; the specials in both vocab and added_tokens. */
export function tokenizerJson(v: Vocabulary): unknown {
  const vocab: Record<string, number> = {};
  v.tokens.forEach((t, id) => (vocab[t] = id));
  const special = (content: string) => ({
    id: vocab[content],
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: content === SOS_TOKEN ? true : false,
    special: true,
  });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(SOS_TOKEN), special(EOS_TOKEN)],
    normalizer: {
      type: 'Sequence',
      normalizers: [{ type: 'NFC' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Lowercase' }],
    },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        {
          type: 'Split',
          pattern: { Regex: "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+" },
          behavior: 'Removed',
          invert: true,
        },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: {
      type: 'RobertaProcessing',
      sep: [EOS_TOKEN, vocab[EOS_TOKEN]],
      cls: [SOS_TOKEN, vocab[SOS_TOKEN]],
      trim_offsets: false,
      add_prefix_space: false,
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: EOS_TOKEN,
      continuing_subword_prefix: '',
      end_of_word_suffix: '</w>',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges: v.merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}

export function defaultVocabGz(repoRoot: string): string | null {
  const p = `${repoRoot}/../shared/clip-tokenizer/bpe_simple_vocab_16e6.txt.gz`;
  return existsSync(p) ? p : null;
}
