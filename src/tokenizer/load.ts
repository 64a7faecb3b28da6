import { checkCount, LIMITS } from '../input-limits';
import { mergeKey } from './bpe';
import { byteSymbolsInVocabOrder } from './bytes';
import { ClipTokenizer, EOS_TOKEN, SOS_TOKEN } from './tokenizer';

/** Merges CLIP actually uses: 49152 vocabulary entries minus 512 byte symbols minus the 2 specials. */
export const CLIP_MERGE_COUNT = 49152 - 256 - 2;

/** The parts of a Hugging Face tokenizer.json this reader needs. */
export interface HfTokenizerJson {
  model: { vocab: Record<string, number>; merges: Array<string | [string, string]> };
  /** Special tokens; CLIP's `<|startoftext|>`/`<|endoftext|>` may be here, in model.vocab, or both. */
  added_tokens?: Array<{ id: number; content: string }>;
}

function ranksOf(merges: Array<[string, string]>): Map<string, number> {
  const ranks = new Map<string, number>();
  // A repeated merge keeps its last rank, as the dict(zip(merges, range(...))) in CLIP does.
  merges.forEach(([a, b], rank) => ranks.set(mergeKey(a, b), rank));
  return ranks;
}

function splitMerge(m: string | [string, string]): [string, string] {
  if (Array.isArray(m)) {
    if (m.length !== 2 || typeof m[0] !== 'string' || typeof m[1] !== 'string') throw new Error(`Malformed merge ${JSON.stringify(m).slice(0, 80)}`);
    return m;
  }
  if (typeof m !== 'string') throw new Error(`Malformed merge ${String(JSON.stringify(m)).slice(0, 80)}`);
  const space = m.indexOf(' ');
  if (space <= 0) throw new Error(`Malformed merge ${JSON.stringify(m)}`);
  return [m.slice(0, space), m.slice(space + 1)];
}

/** From a Hugging Face tokenizer.json (merges as "a b" strings or [a, b] pairs); ids come from its vocab. */
export function tokenizerFromHfJson(json: HfTokenizerJson): ClipTokenizer {
  const model = json?.model;
  if (!model || typeof model.vocab !== 'object' || model.vocab === null || Array.isArray(model.vocab) || !Array.isArray(model.merges)) {
    throw new Error('tokenizer.json has no BPE model.vocab / model.merges');
  }
  // Counts against CLIP's (49,408 tokens, 48,894 merges) before any table is built from them.
  checkCount('model.merges', model.merges.length, LIMITS.merges, 'merges', "CLIP's tokenizer has 48,894");
  const entries = Object.entries(model.vocab);
  checkCount('model.vocab', entries.length, LIMITS.vocab, 'tokens', "CLIP's vocabulary has 49,408");
  const added = Array.isArray(json.added_tokens) ? json.added_tokens : [];
  checkCount('added_tokens', added.length, LIMITS.vocab, 'tokens');
  // Ids index a dense table: each must be a small non-negative integer, or one id could size it to billions.
  const checkId = (token: string, id: unknown) => {
    if (!Number.isInteger(id) || (id as number) < 0 || (id as number) >= LIMITS.vocab) {
      throw new Error(`token ${JSON.stringify(token).slice(0, 40)} has id ${String(JSON.stringify(id)).slice(0, 40)}; ids must be integers from 0 to ${LIMITS.vocab - 1}`);
    }
  };
  for (const [token, id] of entries) checkId(token, id);
  const vocab = new Map(entries as Array<[string, number]>);
  // Exporters differ: some list the specials only in added_tokens, some in both places (with the same ids).
  for (const t of added) {
    if (typeof t?.content !== 'string' || !Number.isInteger(t.id)) continue;
    checkId(t.content, t.id);
    const known = vocab.get(t.content);
    if (known !== undefined && known !== t.id) {
      throw new Error(`added_tokens gives ${JSON.stringify(t.content)} id ${t.id} but model.vocab gives it id ${known}`);
    }
    vocab.set(t.content, t.id);
  }
  return new ClipTokenizer(vocab, ranksOf(model.merges.map(splitMerge)));
}

/**
 * CLIP's vocabulary in id order for a merge list: the 256 byte symbols, the same with `</w>`, one token per
 * merge, then `<|startoftext|>` and `<|endoftext|>` (so EOS is the largest id).
 */
export function clipVocabOrder(merges: ReadonlyArray<readonly [string, string]>): string[] {
  const bytes = byteSymbolsInVocabOrder();
  return [...bytes, ...bytes.map((b) => b + '</w>'), ...merges.map(([a, b]) => a + b), SOS_TOKEN, EOS_TOKEN];
}

/** Splits the merges file's lines ("a b") into pairs. */
export function mergesFromText(text: string, mergeCount = CLIP_MERGE_COUNT): Array<[string, string]> {
  const lines = text.split('\n').slice(1, 1 + mergeCount);
  if (lines.length < mergeCount) throw new Error(`Merges file has ${lines.length} merges, expected ${mergeCount}`);
  return lines.map(splitMerge);
}

/** From the decompressed text of OpenAI's bpe_simple_vocab_16e6.txt.gz (line 1 is a version header). */
export function tokenizerFromMergesText(text: string, mergeCount = CLIP_MERGE_COUNT): ClipTokenizer {
  const merges = mergesFromText(text, mergeCount);
  return new ClipTokenizer(new Map(clipVocabOrder(merges).map((t, id) => [t, id])), ranksOf(merges));
}
