/**
 * `npm run -s coop:trace -- --model DIR --case FILE.json [--engine cpu|wgsl] [--compare]`
 *
 * Runs our CoOp trainer over exactly the case's batches (src/cli/trace.ts) and prints
 * {"loss": [per step], "lr": [per step], "ctx": [flat, after each epoch]}. With --compare, and a case that carries
 * PyTorch's "expected" trajectory (tools/coop-trace/trace.py), prints the max abs / relative error per epoch instead.
 */
import { readFileSync } from 'node:fs';
import { parseArgs, str } from '../src/cli/args';
import { loadAll } from '../src/cli/common';
import { checkCase, compareTrajectories, runTrace } from '../src/cli/trace';

async function main(): Promise<number> {
  const p = parseArgs(process.argv.slice(2), { model: 'value', case: 'value', engine: 'value', compare: 'flag' });
  const model = str(p, 'model');
  const file = str(p, 'case');
  if (!model || !file) {
    process.stderr.write('usage: npm run -s coop:trace -- --model DIR --case FILE.json [--engine cpu|wgsl] [--compare]\n');
    return 2;
  }
  const raw = JSON.parse(readFileSync(file, 'utf8'));
  const c = checkCase(raw, file);
  const l = await loadAll(model);
  let engine;
  if (str(p, 'engine') === 'wgsl') {
    const { dawnGpu } = await import('../src/engine/gpu/dawn-node');
    const { GpuTextEngine } = await import('../src/worker/gpu-text-engine');
    const made = await GpuTextEngine.create(await dawnGpu(), l.weights, c.logit_scale ?? l.model.manifest.logit_scale, (m) => process.stderr.write(m + '\n'));
    if (!('engine' in made)) throw new Error(`--engine wgsl: ${made.reason}`);
    engine = made.engine;
  }
  const trace = await runTrace(c, l, engine);
  engine?.dispose();
  if (p.opts.has('compare')) {
    const exp = raw.expected as { loss: number[]; lr: number[]; ctx: number[][] } | undefined;
    if (!exp) throw new Error(`case ${file} has no "expected" trajectory to compare with`);
    const rows = compareTrajectories(trace.ctx, exp.ctx, c.ctx);
    const lossErr = Math.max(...exp.loss.map((x, i) => Math.abs(x - trace.loss[i])));
    const lrErr = Math.max(...exp.lr.map((x, i) => Math.abs(x - trace.lr[i])));
    process.stdout.write(JSON.stringify({ maxLossAbs: lossErr, maxLrAbs: lrErr, epochs: rows }) + '\n');
  } else process.stdout.write(JSON.stringify(trace) + '\n');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`coop:trace: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
