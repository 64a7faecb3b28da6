/**
 * `npm run bench -- --out FILE [--shape toy|small|vit-b32] [--node] [--reps N]`: the
 * benchmark in headless Chromium (default) or in Node on Dawn (--node). Writes the JSON
 * result and prints it as tables. `--help` lists every option.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, type CliArgs } from './lib/args';
import { formatTables } from './lib/table';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const started = Date.now();
const log = (line: string) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);

// `npm run bench -- --cpu [--out DIR]`: the CPU engines instead (issue 17's rows): the whole step, reference vs WASM
// on 1 and 2 threads (toy K = 8, ViT-B/32 K = 10 and 100: bench/cpu-step.ts), and every matmul shape of the ViT-B/32
// step next to onnxruntime-web's WASM MatMul (bench/cpu-matmul.ts), and the successors' steps beside CoOp's
// (bench/tower-step.ts). Each writes its JSON rows into DIR.
if (process.argv.includes('--cpu')) {
  const at = process.argv.indexOf('--out');
  const dir = resolve(at > 0 ? process.argv[at + 1] : join(tmpdir(), `coop-bench-cpu-${new Date().toISOString().replace(/[:.]/g, '-')}`));
  mkdirSync(dir, { recursive: true });
  const runs: [string, string[]][] = [
    ['bench/cpu-step.ts', ['--shape', 'toy', '--k', '8', '--engines', 'reference,wasm', '--threads', '1,2', '--reps', '5', '--out', join(dir, 'cpu-step-toy.json')]],
    ['bench/cpu-step.ts', ['--shape', 'vit-b32', '--k', '10', '--engines', 'reference,wasm', '--threads', '1,2', '--reps', '3', '--out', join(dir, 'cpu-step-vit-b32-k10.json')]],
    ['bench/cpu-step.ts', ['--shape', 'vit-b32', '--k', '100', '--engines', 'reference,wasm', '--threads', '1,2', '--reps', '1', '--out', join(dir, 'cpu-step-vit-b32-k100.json')]],
    ['bench/cpu-matmul.ts', ['--shape', 'vit-b32', '--k', '10', '--threads', '1,2', '--reps', '20', '--out', join(dir, 'cpu-matmul-vit-b32-k10.json')]],
    // The successors' steps beside CoOp's on the WASM engine (issue 19): CoCoOp, deep prompts, TCP, DePT.
    ['bench/tower-step.ts', ['--shape', 'vit-b32', '--k', '10,100', '--threads', '2', '--reps', '3', '--out', join(dir, 'tower-step-vit-b32.json')]],
  ];
  for (const [file, extra] of runs) {
    log(`npx tsx ${file} ${extra.join(' ')}`);
    const r = spawnSync('npx', ['tsx', join(root, file), ...extra], { stdio: 'inherit', cwd: root });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
  log(`JSON rows in ${dir}`);
  process.exit(0);
}

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
async function runNode() {
  const host = await import('./lib/node-host');
  try {
    return await host.runInNode(root, args.options, args.dawn, log);
  } catch (e) {
    // The Vulkan loader and its ICD are chosen when the process starts, so falling back to
    // Chromium's SwiftShader means running again with its library path and ICD set.
    const icd = host.SWIFTSHADER_ENV.VK_ICD_FILENAMES;
    if (!(e instanceof host.NoAdapterError) || process.env.VK_ICD_FILENAMES || !existsSync(icd)) throw e;
    log(`${(e as Error).message}; running again on SwiftShader (${icd})`);
    const ld = [host.SWIFTSHADER_ENV.LD_LIBRARY_PATH, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
    const child = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
      stdio: 'inherit',
      env: { ...process.env, LD_LIBRARY_PATH: ld, VK_ICD_FILENAMES: icd },
    });
    process.exitCode = child.status ?? 1;
    return null;
  }
}

const result = args.node
  ? await runNode()
  : await (await import('./lib/browser-host')).runInBrowser(root, args.options, args.chromium, args.browserArgs, log);

if (result) {
  writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  console.log(formatTables(result));
  console.log(`\nJSON: ${out}`);
  process.exitCode = result.errors.length ? 1 : 0;
}
