export { ClipTokenizer, DEFAULT_CONTEXT_LENGTH, EOS_TOKEN, SOS_TOKEN, type TokenizeOptions } from './tokenizer';
export { CLIP_MERGE_COUNT, clipVocabOrder, mergesFromText, tokenizerFromHfJson, tokenizerFromMergesText, type HfTokenizerJson } from './load';
export { gunzipToText } from './gunzip';
export { cleanText, preTokenize } from './clean';
export { htmlUnescape } from './htmlUnescape';
