// Usage: npm run -s tokenize -- [--model DIR | --vocab bpe_simple_vocab_16e6.txt.gz | --tokenizer-json tokenizer.json]
// Reads lines from stdin and prints one JSON array of ids per line, without start/end tokens.
// --model reads the folder through the app's loader (a folder as published, no manifest needed), so its
// tokenizer is checked exactly as the app checks it (EOS the largest id, specials in vocab or added_tokens).
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { gunzipSync } from 'node:zlib';
import { describeModelDir } from '../src/models/node';
import { tokenizerFromHfJson, tokenizerFromMergesText, type ClipTokenizer } from '../src/tokenizer';

const DEFAULT_JSON = 'public/models/toy-clip/tokenizer.json';

function argValue(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  if (i < 0) return undefined;
  const value = args[i + 1];
  if (!value || value.startsWith('--')) throw new Error(`${flag} needs a file argument`);
  return value;
}

async function load(args: string[]): Promise<ClipTokenizer> {
  const model = argValue(args, '--model');
  if (model) return (await describeModelDir(model)).tokenizer;
  const vocab = argValue(args, '--vocab');
  if (vocab) {
    const raw = readFileSync(vocab);
    // Accept the file gzipped (as published) or already unpacked.
    const text = raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
    return tokenizerFromMergesText(text);
  }
  return tokenizerFromHfJson(JSON.parse(readFileSync(argValue(args, '--tokenizer-json') ?? DEFAULT_JSON, 'utf8')));
}

async function main(): Promise<void> {
  const tokenizer = await load(process.argv.slice(2));
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) process.stdout.write(JSON.stringify(tokenizer.encode(line)) + '\n');
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
