/**
 * `npm run coop` on the bundled demo (1 shot, 1 seed, a few epochs, CPU twin): the table's shape, the prompt files
 * importing through the app's own parser, eval/predict over them; then every bad input with its message.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main';
import { parsePromptFile } from '../../src/coop/prompt-file';

const MODEL = 'public/models/toy-clip';
const DEMO = 'public/samples';
const tmp = mkdtempSync(path.join(os.tmpdir(), 'coop-cli-'));
const cache = path.join(tmp, 'cache');
const out = path.join(tmp, 'out');

function coop(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/coop.ts', ...args], { encoding: 'utf8', env: { ...process.env, COOP_NO_REEXEC: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// In-process commands never re-run themselves with the Vulkan environment (main.ts does that for a real command).
process.env.COOP_NO_REEXEC = '1';

/** In-process (no new process to start): exit code, stdout and stderr. */
async function coopIn(args: string[]) {
  let err = '';
  let stdout = '';
  const write = process.stderr.write.bind(process.stderr);
  const outWrite = process.stdout.write.bind(process.stdout);
  process.stderr.write = ((s: string | Uint8Array) => ((err += String(s)), true)) as typeof process.stderr.write;
  process.stdout.write = ((s: string | Uint8Array) => ((stdout += String(s)), true)) as typeof process.stdout.write;
  try {
    const code = await main(args);
    return { code, stderr: err, stdout };
  } finally {
    process.stderr.write = write;
    process.stdout.write = outWrite;
  }
}

/** A tiny dataset: two classes of the demo with two images each, and a test split. */
function tinyData(name: string, edit?: (root: string) => void): string {
  const root = path.join(tmp, name);
  for (const [split, n] of [['train', 2], ['test', 2]] as const) {
    for (const c of ['disc', 'box']) {
      mkdirSync(path.join(root, split, c), { recursive: true });
      for (let i = 0; i < n; i++) copyFileSync(path.join(DEMO, split, c, `00${i}.jpg`), path.join(root, split, c, `00${i}.jpg`));
    }
  }
  edit?.(root);
  return root;
}

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('coop train on the bundled demo', () => {
  let run: ReturnType<typeof coop>;
  beforeAll(() => {
    run = coop(['train', '--model', MODEL, '--data', DEMO, '--shots', '1', '--seeds', '1', '--epochs', '2', '--csc', 'both', '--engine', 'cpu', '--out', out, '--cache', cache]);
  }, 180_000);

  it('writes the paper table (Markdown + JSON) with one 1-shot block, every row and both splits', () => {
    expect(run.code, run.stderr).toBe(0);
    const md = readFileSync(path.join(out, 'results.md'), 'utf8');
    expect(md).toContain('### 1 shot');
    expect(md).toContain('| method | test | shifted |');
    const json = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8'));
    expect(json.splits).toEqual(['test', 'shifted']);
    expect(json.table.blocks).toHaveLength(1);
    const rows = json.table.blocks[0].rows;
    expect(rows.map((r: { method: string }) => r.method)).toEqual([
      'zero-shot CLIP ("a photo of a {}.")',
      'prompt ensembling (8 templates)',
      'linear probe',
      'CoOp unified end M16',
      'CoOp CSC end M16',
    ]);
    for (const r of rows) for (const s of ['test', 'shifted']) expect(r.cells[s].mean).toBeGreaterThanOrEqual(0);
    // The deterministic baselines equal PyTorch's (public/samples/baselines.json).
    const ref = JSON.parse(readFileSync(path.join(DEMO, 'baselines.json'), 'utf8')).results;
    expect(rows[0].cells.test.mean).toBeCloseTo(ref.test.zero_shot, 6);
    expect(rows[0].cells.shifted.mean).toBeCloseTo(ref.shifted.zero_shot, 6);
    expect(rows[1].cells.test.mean).toBeCloseTo(ref.test.ensemble, 6);
    expect(run.stderr).toMatch(/steps\/s.*ETA/);
    expect(run.stderr).toMatch(/encoding .* img\/s/);
  });

  it("writes every run's learned prompt, which the app's parser imports", () => {
    const dir = path.join(out, 'prompts', '1shot');
    expect(readdirSync(dir).sort()).toEqual(['csc-seed1.json', 'unified-seed1.json']);
    const manifest = JSON.parse(readFileSync(path.join(MODEL, 'manifest.json'), 'utf8'));
    for (const f of readdirSync(dir)) {
      const r = parsePromptFile(readFileSync(path.join(dir, f), 'utf8'), { id: 'toy-clip', fingerprint: manifest.text_model_sha256, width: 128 });
      expect(r.ok, r.ok ? '' : r.error).toBe(true);
      if (r.ok) {
        expect(r.prompt.classNames).toHaveLength(8);
        expect(r.prompt.context.cscClasses).toBe(f.startsWith('csc') ? 8 : 0);
      }
    }
  });

  it('eval reads a prompt back and scores every split per class, from the feature cache', async () => {
    const r = await coopIn(['eval', '--model', MODEL, '--prompt', path.join(out, 'prompts', '1shot', 'unified-seed1.json'), '--data', DEMO, '--engine', 'cpu', '--cache', cache, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout);
    expect(Object.keys(rep)).toEqual(['test', 'shifted']);
    expect(rep.test.n).toBe(200);
    expect(Object.keys(rep.test.per_class)).toHaveLength(8);
    expect(r.stderr).not.toMatch(/encoding/); // every feature came from the cache
    const json = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8'));
    const unified = json.table.blocks[0].rows[3].cells.test.mean;
    expect(100 * rep.test.accuracy).toBeCloseTo(unified, 6);
  }, 60_000);

  it('predict prints each image’s top classes with probabilities', async () => {
    const r = await coopIn(['predict', '--model', MODEL, '--prompt', path.join(out, 'prompts', '1shot', 'csc-seed1.json'), '--top', '3', '--cache', cache, '--json', path.join(DEMO, 'test', 'disc', '000.jpg'), path.join(DEMO, 'index.json')]);
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout);
    expect(rep[0].top).toHaveLength(3);
    expect(rep[0].top.reduce((s: number, t: { probability: number }) => s + t.probability, 0)).toBeLessThanOrEqual(1 + 1e-6);
    expect(rep[1].error).toMatch(/index\.json could not be decoded as an image/);
  }, 60_000);
});

describe('coop train: bad input gets a clear message', () => {
  const train = (data: string, extra: string[] = []) =>
    coopIn(['train', '--model', MODEL, '--data', data, '--shots', '1', '--seeds', '1', '--epochs', '1', '--engine', 'cpu', '--out', path.join(tmp, `o-${path.basename(data)}-${extra.join('')}`), '--cache', cache, '--quiet', ...extra]);

  it('a missing train/ split', async () => {
    const root = tinyData('no-train', (r) => rmSync(path.join(r, 'train'), { recursive: true }));
    const r = await train(root);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/has no train\/ folder: the data must be laid out as DIR\/train\/<class>/);
  });

  it('an empty class folder', async () => {
    const root = tinyData('empty-class', (r) => mkdirSync(path.join(r, 'train', 'wedge')));
    const r = await train(root);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/train\/wedge holds no images: add some, or remove the folder/);
  });

  it('a class in an evaluation split that training never saw, and non-image / unreadable files: skipped, named, counted', async () => {
    const root = tinyData('unseen', (r) => {
      mkdirSync(path.join(r, 'test', 'kite'));
      copyFileSync(path.join(DEMO, 'test', 'kite', '000.jpg'), path.join(r, 'test', 'kite', '000.jpg'));
      writeFileSync(path.join(r, 'train', 'disc', 'notes.txt'), 'not an image');
      writeFileSync(path.join(r, 'train', 'box', 'broken.jpg'), 'not a jpeg at all');
    });
    const r = await train(root);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/test\/kite: training never saw this class/);
    expect(r.stderr).toMatch(/train\/disc: skipped 1 file\(s\) that are not images: notes\.txt/);
    expect(r.stderr).toMatch(/skipped 1 file\(s\) that could not be read as images:\n.*broken\.jpg could not be decoded/);
  });

  it('a prompt file for another model is refused', async () => {
    const other = path.join(tmp, 'other-model.json');
    const good = readFileSync(path.join(out, 'prompts', '1shot', 'unified-seed1.json'), 'utf8');
    writeFileSync(other, good.replace(/"text_model_sha256": "[0-9a-f]+"/, `"text_model_sha256": "${'ab'.repeat(32)}"`));
    const r = await coopIn(['eval', '--model', MODEL, '--prompt', other, '--data', tinyData('eval-other'), '--engine', 'cpu', '--cache', cache]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--prompt .*other-model\.json: .*(fingerprint|another|different)/i);
  });

  it('--ep cuda without CUDA: falls back with a message, or stops with --ep-strict', async () => {
    if (existsSync('/dev/nvidia0')) return; // a CUDA machine has nothing to fall back from
    const root = tinyData('cuda');
    const soft = await train(root, ['--ep', 'cuda']);
    expect(soft.code, soft.stderr).toBe(0);
    expect(soft.stderr).toMatch(/--ep cuda: .*falling back to the CPU execution provider/);
    const strict = await train(root, ['--ep', 'cuda', '--ep-strict']);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toMatch(/--ep cuda: .*Run with --ep cpu/);
  });

  it('unknown options and bad values name the option', async () => {
    expect((await coopIn(['train', '--shots', 'x'])).stderr).toMatch(/--model DIR is required|--shots takes positive integers/);
    expect((await coopIn(['train', '--model', MODEL, '--data', DEMO, '--shots', '0'])).stderr).toMatch(/--shots takes positive integers/);
    expect((await coopIn(['train', '--frobnicate'])).stderr).toMatch(/unknown option --frobnicate/);
  });
});

describe('coop train --method', () => {
  it('trains KgCoOp and ProGrad through the trainer and fits both adapters: one table, a time per method', async () => {
    const data = tinyData('methods');
    const o = path.join(tmp, 'out-methods');
    const r = await coopIn(['train', '--model', MODEL, '--data', data, '--shots', '2', '--seeds', '1', '--epochs', '1', '--engine', 'cpu', '--method', 'kgcoop,prograd,tip,tip-f', '--out', o, '--cache', cache, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(readFileSync(path.join(o, 'results.json'), 'utf8'));
    const rows = json.table.blocks[0].rows.map((x: { method: string }) => x.method);
    expect(rows.slice(-4)).toEqual(['KgCoOp unified end M16', 'ProGrad unified end M16', 'Tip-Adapter', 'Tip-Adapter-F']);
    expect(Object.keys(json.train_seconds).sort()).toEqual(['KgCoOp unified end M16', 'ProGrad unified end M16', 'Tip-Adapter', 'Tip-Adapter-F']);
    expect(readFileSync(path.join(o, 'results.md'), 'utf8')).toMatch(/Training time per run .*Tip-Adapter-F/);
    expect(readdirSync(path.join(o, 'prompts', '2shot')).sort()).toEqual(['kgcoop-unified-seed1.json', 'prograd-unified-seed1.json']);
  }, 180_000);

  it('fits CLAP, LP++, TaskRes and CLIP-Adapter on cached features: rows, times, coop-adapter files that eval and predict read back', async () => {
    const data = tinyData('feature-methods');
    const o = path.join(tmp, 'out-feature-methods');
    const r = await coopIn(['train', '--model', MODEL, '--data', data, '--shots', '2', '--seeds', '1', '--engine', 'cpu', '--method', 'clap,lp++,taskres,clip-adapter', '--out', o, '--cache', cache, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(readFileSync(path.join(o, 'results.json'), 'utf8'));
    const names = ['CLAP', 'LP++', 'TaskRes', 'CLIP-Adapter'];
    expect(json.table.blocks[0].rows.map((x: { method: string }) => x.method).slice(-4)).toEqual(names);
    expect(Object.keys(json.train_seconds).sort()).toEqual([...names].sort());
    const files = readdirSync(path.join(o, 'prompts', '2shot')).sort();
    expect(files).toEqual(['clap-seed1.json', 'clip-adapter-seed1.json', 'lpp-seed1.json', 'taskres-seed1.json']);
    for (const f of files) {
      const j = JSON.parse(readFileSync(path.join(o, 'prompts', '2shot', f), 'utf8'));
      expect([j.format, j.method]).toEqual(['coop-adapter', f.replace('-seed1.json', '')]);
    }
    // The exported classifier classifies again: eval gives the accuracy the run recorded.
    const file = path.join(o, 'prompts', '2shot', 'clip-adapter-seed1.json');
    const ev = await coopIn(['eval', '--model', MODEL, '--prompt', file, '--data', data, '--split', 'test', '--cache', cache, '--json']);
    expect(ev.code, ev.stderr).toBe(0);
    expect(ev.stderr).toMatch(/made by CLIP-Adapter, 2 classes/);
    expect(JSON.parse(ev.stdout).test.accuracy).toBeCloseTo(JSON.parse(readFileSync(file, 'utf8')).metrics.test_acc, 9);
    const pr = await coopIn(['predict', '--model', MODEL, '--prompt', path.join(o, 'prompts', '2shot', 'lpp-seed1.json'), '--cache', cache, '--json', path.join(data, 'test', 'box', '000.jpg')]);
    expect(pr.code, pr.stderr).toBe(0);
    expect(JSON.parse(pr.stdout)[0].top.map((t: { class: string }) => t.class).sort()).toEqual(['box', 'disc']);
  }, 180_000);

  it('names the known methods on a typo', async () => {
    const r = await coopIn(['train', '--model', MODEL, '--data', tinyData('typo'), '--method', 'coop,tipf', '--engine', 'cpu', '--out', path.join(tmp, 'o-typo'), '--cache', cache]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--method: unknown method 'tipf': use one or more of coop, kgcoop, prograd, cocoop, deep, tcp, dept-coop, dept-kgcoop, tip, tip-f/);
  });
});
