import { bpeWord, type MergeRanks } from './bpe';
import { fromByteSymbols, toByteSymbols } from './bytes';
import { cleanText, preTokenize } from './clean';

export const SOS_TOKEN = '<|startoftext|>';
export const EOS_TOKEN = '<|endoftext|>';
export const DEFAULT_CONTEXT_LENGTH = 77;

export interface TokenizeOptions {
  contextLength?: number;
  /** Keep the first contextLength-1 tokens and end with EOS instead of throwing, as CLIP's truncate=True. */
  truncate?: boolean;
}

/** CLIP's simple_tokenizer over a given vocabulary and merge list (build one with the loaders in load.ts). */
export class ClipTokenizer {
  readonly sosId: number;
  readonly eosId: number;
  private readonly idToToken: string[];
  // Words repeat heavily across prompts; BPE on a word is the expensive part, so results are memoised.
  private readonly cache = new Map<string, number[]>();

  constructor(
    private readonly vocab: ReadonlyMap<string, number>,
    private readonly ranks: MergeRanks,
  ) {
    const sos = vocab.get(SOS_TOKEN);
    const eos = vocab.get(EOS_TOKEN);
    if (sos === undefined || eos === undefined) throw new Error(`Vocabulary lacks ${SOS_TOKEN} or ${EOS_TOKEN}`);
    this.sosId = sos;
    this.eosId = eos;
    this.idToToken = [];
    for (const [token, id] of vocab) this.idToToken[id] = token;
    // The special strings bypass BPE, exactly as CLIP seeds its cache.
    this.cache.set(SOS_TOKEN, [sos]);
    this.cache.set(EOS_TOKEN, [eos]);
  }

  get vocabSize(): number {
    return this.idToToken.length;
  }

  /** Token ids of the text, without start/end tokens or padding. */
  encode(text: string): number[] {
    const ids: number[] = [];
    for (const word of preTokenize(cleanText(text))) {
      const symbols = toByteSymbols(word);
      let wordIds = this.cache.get(symbols);
      if (!wordIds) {
        wordIds = bpeWord(symbols, this.ranks).map((s) => this.idOf(s));
        this.cache.set(symbols, wordIds);
      }
      for (const id of wordIds) ids.push(id);
    }
    return ids;
  }

  /** SOS + ids + EOS, zero-padded to contextLength, as the text encoder expects. */
  tokenize(text: string, { contextLength = DEFAULT_CONTEXT_LENGTH, truncate = false }: TokenizeOptions = {}): Int32Array {
    let ids = [this.sosId, ...this.encode(text), this.eosId];
    if (ids.length > contextLength) {
      if (!truncate) {
        throw new Error(
          `Text is ${ids.length - contextLength} tokens too long (${ids.length} > ${contextLength})`,
        );
      }
      ids = ids.slice(0, contextLength);
      ids[contextLength - 1] = this.eosId;
    }
    const out = new Int32Array(contextLength);
    out.set(ids);
    return out;
  }

  /** The raw vocabulary string of an id, e.g. `cat</w>` (byte symbols, `</w>` marking a word end). */
  tokenString(id: number): string {
    const token = this.idToToken[id];
    if (token === undefined) throw new RangeError(`Token id ${id} is outside the vocabulary`);
    return token;
  }

  /** Readable text of ids as CLIP decodes it: bytes re-assembled as UTF-8, `</w>` turned into a space. */
  decode(ids: ArrayLike<number>): string {
    let symbols = '';
    for (let i = 0; i < ids.length; i++) symbols += this.tokenString(ids[i]);
    return fromByteSymbols(symbols).replaceAll('</w>', ' ');
  }

  private idOf(symbol: string): number {
    const id = this.vocab.get(symbol);
    if (id === undefined) throw new Error(`BPE produced ${JSON.stringify(symbol)}, which is not in the vocabulary`);
    return id;
  }
}
