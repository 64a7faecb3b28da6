/** Merge ranks keyed by `left + ' ' + right`; byte symbols never contain a space, so the key is unambiguous. */
export type MergeRanks = ReadonlyMap<string, number>;

export const mergeKey = (left: string, right: string): string => left + ' ' + right;

/**
 * Applies BPE merges to one byte-encoded word, CLIP style: `</w>` is glued to the last character first, then
 * the lowest-ranked adjacent pair is merged everywhere (left to right, non-overlapping) until none is ranked.
 */
export function bpeWord(word: string, ranks: MergeRanks): string[] {
  const chars = Array.from(word);
  let symbols = chars.slice(0, -1);
  symbols.push(chars[chars.length - 1] + '</w>');
  while (symbols.length > 1) {
    let best = Infinity;
    let bestLeft = '';
    let bestRight = '';
    for (let i = 0; i + 1 < symbols.length; i++) {
      const r = ranks.get(mergeKey(symbols[i], symbols[i + 1]));
      if (r !== undefined && r < best) {
        best = r;
        bestLeft = symbols[i];
        bestRight = symbols[i + 1];
      }
    }
    if (best === Infinity) break;
    const merged: string[] = [];
    for (let i = 0; i < symbols.length; i++) {
      if (i + 1 < symbols.length && symbols[i] === bestLeft && symbols[i + 1] === bestRight) {
        merged.push(bestLeft + bestRight);
        i++;
      } else {
        merged.push(symbols[i]);
      }
    }
    symbols = merged;
  }
  return symbols;
}
