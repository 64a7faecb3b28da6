/**
 * `npm run bench -- --out FILE [--shape toy|small|vit-b32] [--node] [--reps N]`: the
 * benchmark in headless Chromium (default) or in Node on Dawn (--node). Writes the JSON
 * result and prints it as tables. `--help` lists every option.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, type CliArgs } from './lib/args';
import { formatTables } from './lib/table';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const started = Date.now();
const log = (line: string) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);

let args: CliArgs;
try {
  args = parseArgs(process.argv.slice(2));
} catch (e) {
  console.error((e as Error).message);
  process.exit(2);
}

const out = resolve(args.out ?? join(tmpdir(), `coop-bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`));
log(`${args.node ? 'node (Dawn)' : 'headless Chromium'}; shapes ${args.options.shapes.join(', ')}; reps ${args.options.reps}; budget ${args.options.budgetS} s`);

// Imported lazily so that the browser run does not load dawn.node and --node does not start Vite.
const result = args.node
  ? await (await import('./lib/node-host')).runInNode(root, args.options, args.dawn, log)
  : await (await import('./lib/browser-host')).runInBrowser(root, args.options, args.chromium, args.browserArgs, log);

writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
console.log(formatTables(result));
console.log(`\nJSON: ${out}`);
process.exitCode = result.errors.length ? 1 : 0;
