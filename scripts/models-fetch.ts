// Usage: npm run models:fetch -- <owner/name> [--revision R] [--dtype fp32|fp16] [--vision-dtype fp32|fp16|quantized]
//        [--endpoint URL] [--out DIR]
// Downloads a CLIP model as transformers.js publishes it into public/models/<name>/ (or DIR), for bundling it with
// the build and for the command line. The endpoint defaults to $HF_ENDPOINT, then https://huggingface.co.
// Progress goes to stderr; a rerun continues a file cut short (a .part file) with a Range request.
import { describeModel } from '../src/models/load';
import { fetchModelToDir } from '../src/models/sources/fetch-to-dir';
import { HubSource } from '../src/models/sources/hub';
import { formatDuration, formatMB, type TransferSnapshot } from '../src/models/sources/transfer';

const USAGE = 'usage: npm run models:fetch -- <owner/name> [--revision R] [--dtype fp32|fp16] [--vision-dtype fp32|fp16|quantized] [--endpoint URL] [--out DIR]';

function parse(argv: string[]) {
  const flags: Record<string, string> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') {
      console.log(USAGE);
      process.exit(0);
    }
    if (a.startsWith('--')) {
      const [k, inline] = a.slice(2).split('=', 2);
      const v = inline ?? argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`--${k} needs a value\n${USAGE}`);
      if (!['revision', 'dtype', 'vision-dtype', 'endpoint', 'out'].includes(k)) throw new Error(`unknown option --${k}\n${USAGE}`);
      flags[k] = v;
    } else positional.push(a);
  }
  if (positional.length !== 1) throw new Error(USAGE);
  const dtype = flags.dtype ?? 'fp32';
  if (dtype !== 'fp32' && dtype !== 'fp16') throw new Error(`--dtype must be fp32 or fp16 (got ${dtype})`);
  const vision = flags['vision-dtype'] ?? dtype;
  if (!['fp32', 'fp16', 'quantized'].includes(vision)) throw new Error(`--vision-dtype must be fp32, fp16 or quantized (got ${vision})`);
  return { repo: positional[0], revision: flags.revision, endpoint: flags.endpoint ?? process.env.HF_ENDPOINT, out: flags.out, dtype, vision };
}

function line(s: TransferSnapshot): string {
  const current = s.files.find((f) => !f.done && f.loaded > 0) ?? s.files.find((f) => !f.done);
  const pct = s.total ? ((100 * s.loaded) / s.total).toFixed(1) : '?';
  const rate = s.rate ? `${formatMB(s.rate)}/s` : '';
  const eta = s.eta !== null ? `ETA ${formatDuration(s.eta)}` : '';
  const file = current ? `${current.path} ${formatMB(current.loaded)}/${formatMB(current.total)}` : 'done';
  return `${pct}% ${formatMB(s.loaded)} of ${formatMB(s.total)} ${rate} ${eta} · ${file}`.replace(/ +/g, ' ');
}

async function main(): Promise<void> {
  const args = parse(process.argv.slice(2));
  const source = new HubSource({ repo: args.repo, revision: args.revision, endpoint: args.endpoint });
  const out = args.out ?? `public/models/${source.name}`;
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort(new Error('stopped (Ctrl-C); run the same command again to continue')));
  const tty = process.stderr.isTTY;
  let last = 0;
  process.stderr.write(`models:fetch: ${source.describe('')} → ${out}\n`);
  const sizes = await fetchModelToDir(source, out, {
    textDtype: args.dtype as 'fp32' | 'fp16',
    visionDtype: args.vision as 'fp32' | 'fp16' | 'quantized',
    signal: controller.signal,
    check: async (s) => void (await describeModel(s, { signal: controller.signal })),
    onProgress: (s) => {
      const now = Date.now();
      const finished = s.loaded >= s.total;
      if (!finished && now - last < (tty ? 200 : 2000)) return;
      last = now;
      process.stderr.write(tty ? `\r\x1b[K${line(s)}` : `${line(s)}\n`);
    },
  });
  if (tty) process.stderr.write('\n');
  const total = Object.values(sizes).reduce((a, b) => a + b, 0);
  process.stderr.write(`models:fetch: ${Object.keys(sizes).length} files, ${formatMB(total)} in ${out}\n`);
}

main().catch((e) => {
  process.stderr.write(`\nmodels:fetch: ${(e as Error).message}\n`);
  process.exit(1);
});
