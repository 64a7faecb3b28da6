/**
 * The token ids the worker's prompt assembly reads, built as KaiyangZhou/CoOp's PromptLearner builds them:
 * tokenize("X X … X {name}.") (or "{init words} {name}." with word init), so the ids are
 * [SOS, ctx placeholders ×M, name tokens, '.', EOS, 0…]. Only the placeholders' ids are never read: the learned
 * context vectors replace them.
 */
import type { ClipTokenizer } from '../tokenizer';
import type { PromptTokens } from '../worker/protocol';

/** A class name as the prompt reads it: '_' as a space, as the original replaces it. */
export const promptName = (name: string) => name.replace(/_/g, ' ').trim();

export function promptTokens(tokenizer: ClipTokenizer, names: readonly string[], nCtx: number, contextLength: number): PromptTokens {
  const ids = new Int32Array(names.length * contextLength);
  const dot = tokenizer.encode('.');
  const x = tokenizer.encode('X');
  // The original's placeholder is the token "X"; any id below EOS serves, as these positions are replaced.
  const placeholder = x.length === 1 ? x[0] : 0;
  const nameLens = names.map((name, k) => {
    const nameIds = tokenizer.encode(promptName(name));
    const row = [tokenizer.sosId, ...new Array<number>(nCtx).fill(placeholder), ...nameIds, ...dot, tokenizer.eosId];
    if (row.length > contextLength) {
      throw new Error(`Class "${name}" is ${row.length - contextLength} tokens too long for ${nCtx} context vectors (${row.length} > ${contextLength}).`);
    }
    ids.set(row, k * contextLength);
    return nameIds.length;
  });
  return { ids, contextLength, nameLens };
}
