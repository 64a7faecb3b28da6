/**
 * `npm run coop -- train|eval|predict …`: CoOp from the command line over the app's own modules.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ArgError, parseArgs } from './args';
import { CACHE_OPTIONS, runCache } from './cache';
import { EVAL_OPTIONS, runEval } from './eval';
import { MERGE_OPTIONS, runMerge } from './merge';
import { PREDICT_OPTIONS, runPredict } from './predict';
import { runSplit, SPLIT_OPTIONS } from './split';
import { runTrain, TRAIN_OPTIONS } from './train';

export const USAGE = `usage:
  npm run coop -- train --model DIR --data DIR [--shots 1,2,4,8,16] [--seeds 1,2,3] [--csc [both]]
        [--position end|middle|front] [--n-ctx M] [--init random|"a photo of a"] [--epochs auto|N] [--views 8]
        [--lr 0.002] [--optimizer sgd|adam] [--batch-size 32] [--engine auto|wgsl|cpu|reference] [--threads N] [--ep cpu|cuda [--ep-strict]] [--out DIR]
        [--splits test,shifted] [--base-to-new [--base N]] [--cache DIR] [--save-features] [--quiet]
        [--method coop,kgcoop,prograd,cocoop,deep,tcp,dept-coop,dept-kgcoop,tip,tip-f,clap,lpp,taskres,clip-adapter]
        [--kg-weight 8] [--prograd-lambda 1] [--prograd-t 1] [--tcp-weight 8] [--dept-lp-weight 0.7] [--dept-kg-weight 2]
        (a successor trains with its official recipe; --n-ctx, --init, --epochs, --lr, --batch-size, --optimizer given here win)
        [--dataset NAME [--targets a,b]] [--protocol fewshot|base2new|xd|dg [--datasets a,b]] [--shard i/n]
  npm run coop -- eval --model DIR --prompt FILE --data DIR [--split S] [--engine auto|wgsl|cpu|reference] [--ep cpu|cuda]
  npm run coop -- predict --model DIR --prompt FILE [--top 5] IMAGE…
  npm run coop -- merge DIR… [--out DIR]
  npm run -s coop -- split --data DIR --dataset NAME --shots K [--seed S] [--subsample all|base|new]
  npm run coop -- cache clear [--cache DIR]   (deletes cached image features; only from a directory it made)
`;

const SWIFTSHADER_DIR = '/usr/lib/chromium';

/** Dawn finds a Vulkan driver only through these; re-run with them where Chromium's SwiftShader is the only one. */
function withVulkanEnv(argv: string[]): boolean {
  const cpuOnly = (v: string | undefined) => v === 'cpu' || v === 'reference';
  const wantsGpu = !argv.some((a, i) => (a === '--engine' && cpuOnly(argv[i + 1])) || cpuOnly(a.startsWith('--engine=') ? a.slice(9) : undefined));
  if (!wantsGpu || process.env.VK_ICD_FILENAMES || process.env.COOP_NO_REEXEC) return false;
  const icd = path.join(SWIFTSHADER_DIR, 'vk_swiftshader_icd.json');
  if (!existsSync(icd) || existsSync('/dev/nvidia0') || existsSync('/dev/dri/renderD128')) return false;
  const r = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, COOP_NO_REEXEC: '1', LD_LIBRARY_PATH: [SWIFTSHADER_DIR, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'), VK_ICD_FILENAMES: icd },
  });
  process.exit(r.status ?? 1);
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    if (cmd === 'train' || cmd === 'eval' || cmd === 'predict') withVulkanEnv(rest);
    switch (cmd) {
      case 'cache':
        runCache(parseArgs(rest, CACHE_OPTIONS));
        return 0;
      case 'train':
        await runTrain(parseArgs(rest, TRAIN_OPTIONS));
        return 0;
      case 'eval':
        await runEval(parseArgs(rest, EVAL_OPTIONS));
        return 0;
      case 'predict':
        await runPredict(parseArgs(rest, PREDICT_OPTIONS));
        return 0;
      case 'split':
        runSplit(parseArgs(rest, SPLIT_OPTIONS));
        return 0;
      case 'merge':
        runMerge(parseArgs(rest, MERGE_OPTIONS));
        return 0;
      case undefined:
      case '--help':
      case 'help':
        process.stdout.write(USAGE);
        return cmd === undefined ? 2 : 0;
      default:
        process.stderr.write(`coop: unknown command '${cmd}'\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`coop ${cmd}: ${msg}\n`);
    if (e instanceof ArgError) process.stderr.write(USAGE);
    if (process.env.COOP_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    return e instanceof ArgError ? 2 : 1;
  }
}
