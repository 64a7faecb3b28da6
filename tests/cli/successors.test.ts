/**
 * `coop train --method cocoop,deep,tcp,dept-coop,dept-kgcoop` on a small cut of the demo (4 classes: 2 base, 2 new;
 * 1 shot, 1 epoch, CPU twin): each successor trains with its official recipe (flags given explicitly win), is scored
 * base and new through its learner, and writes a version-2 prompt file that `coop eval` and `coop predict` read
 * back and score through the same method, with the training run's own numbers.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main';
import { IMPLIED_OPTIONS, runTrain } from '../../src/cli/train';
import { methodRunSettings } from '../../src/coop/method-learner';
import { parsePromptFile } from '../../src/coop/prompt-file';
import { SUCCESSOR_RECIPES } from '../../src/coop/successors';
import { withDefaults } from '../../src/coop/settings';

const MODEL = 'public/models/toy-clip';
const DEMO = 'public/samples';
const CLASSES = ['box', 'disc', 'donut', 'kite'];
const SUCC = ['cocoop', 'deep', 'tcp', 'dept-coop', 'dept-kgcoop'] as const;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'coop-succ-'));
const cache = path.join(tmp, 'cache');
const out = path.join(tmp, 'out');
const data = path.join(tmp, 'data');

process.env.COOP_NO_REEXEC = '1';

async function capture(run: () => Promise<unknown>) {
  let stderr = '';
  let stdout = '';
  const err = process.stderr.write.bind(process.stderr);
  const std = process.stdout.write.bind(process.stdout);
  process.stderr.write = ((s: string | Uint8Array) => ((stderr += String(s)), true)) as typeof process.stderr.write;
  process.stdout.write = ((s: string | Uint8Array) => ((stdout += String(s)), true)) as typeof process.stdout.write;
  try {
    const code = await run();
    return { code, stderr, stdout };
  } finally {
    process.stderr.write = err;
    process.stdout.write = std;
  }
}
const coop = (args: string[]) => capture(() => main(args));

const common = ['--model', MODEL, '--cache', cache, '--engine', 'cpu', '--quiet'];

beforeAll(() => {
  for (const [split, n] of [['train', 2], ['test', 4]] as const) {
    for (const c of CLASSES) {
      mkdirSync(path.join(data, split, c), { recursive: true });
      for (let i = 0; i < n; i++) copyFileSync(path.join(DEMO, split, c, `00${i}.jpg`), path.join(data, split, c, `00${i}.jpg`));
    }
  }
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('coop train with the successors, base-to-new', () => {
  let run: Awaited<ReturnType<typeof coop>>;
  let records: Array<{ method: string; accuracy: Record<string, number> }>;
  beforeAll(async () => {
    run = await coop(['train', ...common, '--data', data, '--base-to-new', '--base', '2', '--shots', '1', '--seeds', '1', '--epochs', '1', '--method', ['coop', ...SUCC].join(','), '--out', out]);
    records = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')).records;
  }, 120_000);

  it('trains each with its official recipe (the explicit --epochs kept), one row each with base and new', () => {
    expect(run.code, run.stderr).toBe(0);
    for (const m of SUCC) {
      const r = SUCCESSOR_RECIPES[m];
      expect(run.stderr).toContain(`official recipe (${r.source})`);
    }
    expect(run.stderr).toMatch(/CoCoOp trains with its official recipe .*batch 1, 1 epoch, lr 0.002, SGD; from the command line instead: --epochs/);
    expect(run.stderr).toMatch(/TCP trains with its official recipe .*Adam/);
    const labels = ['CoCoOp unified end "a photo of a"', 'Deep prompts unified end "a photo of a"', 'TCP unified end M4 Adam', 'DePT (CoOp) unified end M16', 'DePT (KgCoOp) unified end "a photo of a"'];
    for (const label of labels) {
      const rec = records.find((x) => x.method === label);
      expect(rec, label).toBeDefined();
      expect(Object.keys(rec!.accuracy).sort()).toEqual(['test/base', 'test/new']);
    }
    expect(readFileSync(path.join(out, 'results.md'), 'utf8')).toMatch(/Training time per run .*CoCoOp unified end "a photo of a" [\d.]+s/);
  });

  it("writes version-2 prompt files with the method record, which eval and predict score through the method", async () => {
    for (const m of SUCC) {
      const file = path.join(out, 'prompts', '1shot', `${m}-unified-seed1.json`);
      const text = readFileSync(file, 'utf8');
      const manifest = JSON.parse(readFileSync(path.join(MODEL, 'manifest.json'), 'utf8'));
      const back = parsePromptFile(text, { id: 'toy-clip', fingerprint: manifest.text_model_sha256, width: 128 });
      expect(back.ok, m).toBe(true);
      if (!back.ok) continue;
      expect(back.prompt.method?.name).toBe(m);
      expect(back.prompt.context.extras?.length).toBeGreaterThan(0);
      if (m === 'tcp') expect(back.prompt.method?.settings.template).toBe('a photo of a {}.');
      if (m.startsWith('dept')) expect(back.prompt.method?.settings.base_classes).toEqual(['box', 'disc']);

      const ev = await coop(['eval', ...common.filter((x) => x !== '--quiet'), '--prompt', file, '--data', data, '--split', 'test', '--json']);
      expect(ev.code, ev.stderr).toBe(0);
      expect(ev.stderr).toContain(`made by ${{ cocoop: 'CoCoOp', deep: 'Deep prompts', tcp: 'TCP', 'dept-coop': 'DePT (CoOp)', 'dept-kgcoop': 'DePT (KgCoOp)' }[m]}, 2 classes`);
      const report = JSON.parse(ev.stdout);
      // The prompt knows the base classes: eval scores the base images among them, as the run's "test base".
      expect(report.test.n).toBe(8);
      expect(report.test.accuracy, m).toBeCloseTo(back.prompt.metrics.test_base_acc, 9);

      // predict: the top class of each base image agrees with eval's per-class accuracy.
      const images = ['box', 'disc'].flatMap((c) => [0, 1, 2, 3].map((i) => path.join(data, 'test', c, `00${i}.jpg`)));
      const pr = await coop(['predict', ...common.filter((x) => x !== '--quiet'), '--prompt', file, '--top', '1', '--json', ...images]);
      expect(pr.code, pr.stderr).toBe(0);
      const tops = JSON.parse(pr.stdout) as Array<{ image: string; top: Array<{ class: string }> }>;
      const correct = tops.filter((t) => t.image.includes(`${path.sep}${t.top[0].class}${path.sep}`)).length;
      expect(correct / 8, m).toBeCloseTo(report.test.accuracy, 9);
    }
  }, 60_000);
});

describe('the successors on the command line: refusals and recipes', () => {
  it('CSC with a successor is refused, and a successor setting without its method', async () => {
    const csc = await coop(['train', ...common, '--data', data, '--csc', '--method', 'coop,cocoop', '--out', path.join(tmp, 'x')]);
    expect(csc.code).not.toBe(0);
    expect(csc.stderr).toMatch(/--csc: CoCoOp learns one context shared by all classes/);
    const w = await coop(['train', ...common, '--data', data, '--method', 'coop', '--tcp-weight', '4', '--out', path.join(tmp, 'y')]);
    expect(w.code).not.toBe(0);
    expect(w.stderr).toMatch(/--tcp-weight applies to TCP/);
  });

  it('the recipe overlays the run, except what the person set; init carries its words', () => {
    const base = { ...withDefaults(), csc: false };
    const { seed: _s, csc: _c, ...run } = base;
    const all = methodRunSettings('cocoop', run, new Set());
    expect(all.settings).toMatchObject({ nCtx: 4, init: 'words', initWords: 'a photo of a', batchSize: 1, epochs: 10, lr: 0.002 });
    expect(all.overridden).toEqual([]);
    const some = methodRunSettings('cocoop', { ...run, init: 'random', nCtx: 8 }, new Set(['init', 'nCtx'] as const));
    expect(some.settings).toMatchObject({ nCtx: 8, init: 'random', batchSize: 1 });
    expect(some.overridden.sort()).toEqual(['init', 'nCtx']);
    expect(methodRunSettings('tcp', run, new Set()).settings.optimizer).toBe('adam');
    expect(methodRunSettings('coop', run, new Set()).settings).toBe(run);
  });

  it("an option a protocol implies (base2new's --init) is not the person's: the successor keeps its recipe", async () => {
    const opts = new Map<string, string | true>([
      ['model', MODEL], ['data', data], ['cache', cache], ['engine', 'cpu'], ['quiet', true], ['base-to-new', true], ['base', '2'],
      ['shots', '1'], ['seeds', '1'], ['epochs', '1'], ['method', 'tcp'], ['init', 'a photo of a'], [IMPLIED_OPTIONS, 'init'], ['out', path.join(tmp, 'implied')],
    ]);
    const r = await capture(() => runTrain({ opts, positional: [] }));
    expect(r.stderr).toMatch(/TCP trains with its official recipe .*init random, .*from the command line instead: --epochs\n/);
  }, 60_000);
});
