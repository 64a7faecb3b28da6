import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FIXTURES, REPO_ROOT, TOY_CLIP } from '../helpers/fixture';
import { relErr } from '../helpers/compare';

function runCase(extra: string[], model = TOY_CLIP, casePath = path.join(FIXTURES, 'coop-unified-end.case.json')) {
  const r = spawnSync('npx', ['tsx', 'scripts/coop-grad.ts', '--model', model, '--case', casePath, ...extra], { cwd: REPO_ROOT, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const out = JSON.parse(r.stdout) as { loss: number; grad: number[]; logits: number[][] };
  const want = JSON.parse(readFileSync(casePath, 'utf8'));
  const lossErr = Math.abs(out.loss - want.expected.loss) / Math.abs(want.expected.loss);
  const gradErr = relErr(out.grad, want.expected.grad);
  console.log(`[tol] coop:grad ${extra.join(' ') || '(WGSL engine, Node Dawn)'} unified-end: loss ${lossErr.toExponential(2)} grad ${gradErr.toExponential(2)}`);
  expect(lossErr).toBeLessThan(1e-4);
  expect(gradErr).toBeLessThan(1e-4);
  expect(out.logits.length).toBe(want.labels.length);
  expect(out.logits[0].length).toBe(want.classnames.length);
}

// The WGSL path needs a Vulkan driver for Dawn: Chromium's SwiftShader, found by the script itself.
const SWIFTSHADER = existsSync('/usr/lib/chromium/vk_swiftshader_icd.json') || !!process.env.VK_ICD_FILENAMES;
if (!SWIFTSHADER) console.warn('coop:grad WGSL test skipped: no Vulkan driver for Dawn (apt-get install -y chromium provides SwiftShader)');

describe('npm run coop:grad', () => {
  it('--cpu (CPU twin) reproduces the case’s PyTorch loss and gradient, tokenizing the class names itself', () => runCase(['--cpu']));
  it('--wasm (the CPU engine\'s WASM SIMD kernels) reproduces the case\u2019s PyTorch loss and gradient', () => runCase(['--wasm']));

  it.skipIf(!SWIFTSHADER)('the WGSL engine in Node (Dawn) reproduces the case’s PyTorch loss and gradient', () => runCase([]), 300_000);

  for (const method of ['kgcoop', 'prograd']) {
    // The printed gradient is the SGD step's (ProGrad: after the projection, which this case triggers).
    it(`--cpu speaks "method": "${method}": loss, logits and the step's gradient match PyTorch`, () => {
      const casePath = path.join(FIXTURES, 'methods', `${method}-unified-end.case.json`);
      const r = spawnSync('npx', ['tsx', 'scripts/coop-grad.ts', '--cpu', '--model', TOY_CLIP, '--case', casePath], { cwd: REPO_ROOT, encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const out = JSON.parse(r.stdout) as { loss: number; grad: number[]; logits: number[][]; kl?: number; cos?: number };
      const want = JSON.parse(readFileSync(casePath, 'utf8')).expected;
      const e = { loss: Math.abs(out.loss - want.loss) / Math.abs(want.loss), grad: relErr(out.grad, want.grad), logits: relErr(out.logits.flat(), want.logits.flat()) };
      console.log(`[tol] coop:grad --cpu ${method} unified-end: loss ${e.loss.toExponential(2)} grad ${e.grad.toExponential(2)} logits ${e.logits.toExponential(2)}`);
      expect(e.loss).toBeLessThan(1e-4);
      expect(e.grad).toBeLessThan(1e-4);
      expect(e.logits).toBeLessThan(1e-4);
      if (method === 'prograd') {
        expect(Math.abs(out.kl! - want.kl) / want.kl).toBeLessThan(1e-4);
        expect(out.cos!).toBeLessThan(0);
      }
    });
  }

  // The successors: their parameters beside the context in, their gradients out under the same keys.
  const GRAD_KEY: Record<string, string> = { cocoop: 'grad_meta_net', deep: 'grad_deep_ctx', tcp: 'grad_tcp_mlp', 'dept-coop': 'grad_dept', 'dept-kgcoop': 'grad_dept' };
  const flat = (x: unknown): number[] => (Array.isArray(x) ? x.flatMap(flat) : x && typeof x === 'object' ? Object.keys(x).sort().flatMap((k) => flat((x as Record<string, unknown>)[k])) : [x as number]);
  for (const [method, engines] of [['cocoop', ['--cpu', '--wasm']], ['deep', ['--cpu', '--wasm', 'wgsl']], ['tcp', ['--cpu']], ['dept-coop', ['--cpu']], ['dept-kgcoop', ['--wasm']]] as const) {
    for (const engine of engines) {
      const skip = engine === 'wgsl' && !SWIFTSHADER;
      it.skipIf(skip)(`${engine === 'wgsl' ? 'the WGSL engine' : engine} speaks "method": "${method}": loss, logits, d ctx and ${GRAD_KEY[method]} match PyTorch`, () => {
        const casePath = path.join(FIXTURES, 'methods', `${method}-unified-end.case.json`);
        const args = ['tsx', 'scripts/coop-grad.ts', ...(engine === 'wgsl' ? [] : [engine]), '--model', TOY_CLIP, '--case', casePath];
        const r = spawnSync('npx', args, { cwd: REPO_ROOT, encoding: 'utf8' });
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
        const out = JSON.parse(r.stdout) as Record<string, unknown> & { loss: number; grad: number[]; logits: number[][] };
        const want = JSON.parse(readFileSync(casePath, 'utf8')).expected;
        const key = GRAD_KEY[method];
        expect(Object.keys(out[key] as object).sort()).toEqual(Object.keys(want[key]).sort());
        const e = { loss: Math.abs(out.loss - want.loss) / Math.abs(want.loss), grad: relErr(out.grad, want.grad), logits: relErr(out.logits.flat(), want.logits.flat()), params: relErr(flat(out[key]), flat(want[key])) };
        console.log(`[tol] coop:grad ${engine} ${method} unified-end: loss ${e.loss.toExponential(2)} grad ${e.grad.toExponential(2)} logits ${e.logits.toExponential(2)} ${key} ${e.params.toExponential(2)}`);
        for (const v of Object.values(e)) expect(v).toBeLessThan(1e-4);
      }, 300_000);
    }
  }

  it('says what a successor case lacks', () => {
    const bad = path.join(mkdtempSync(path.join(tmpdir(), 'coop-grad-')), 'case.json');
    const c = JSON.parse(readFileSync(path.join(FIXTURES, 'coop-unified-end.case.json'), 'utf8'));
    writeFileSync(bad, JSON.stringify({ ...c, method: 'cocoop' }));
    const r = spawnSync('npx', ['tsx', 'scripts/coop-grad.ts', '--cpu', '--model', TOY_CLIP, '--case', bad], { cwd: REPO_ROOT, encoding: 'utf8' });
    rmSync(bad);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/needs 'meta_net'/);
  });

  it('says what a method case lacks', () => {
    const bad = path.join(mkdtempSync(path.join(tmpdir(), 'coop-grad-')), 'case.json');
    const c = JSON.parse(readFileSync(path.join(FIXTURES, 'coop-unified-end.case.json'), 'utf8'));
    writeFileSync(bad, JSON.stringify({ ...c, method: 'prograd' }));
    const r = spawnSync('npx', ['tsx', 'scripts/coop-grad.ts', '--cpu', '--model', TOY_CLIP, '--case', bad], { cwd: REPO_ROOT, encoding: 'utf8' });
    rmSync(bad);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/needs 'zs_logits'/);
  });

  it('reads a folder as published (no manifest.json) through the app loader; the case then gives the logit scale', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'coop-grad-'));
    try {
      const model = path.join(dir, 'published');
      cpSync(TOY_CLIP, model, { recursive: true });
      rmSync(path.join(model, 'manifest.json'));
      const casePath = path.join(dir, 'case.json');
      const scale = JSON.parse(readFileSync(path.join(TOY_CLIP, 'manifest.json'), 'utf8')).logit_scale;
      writeFileSync(casePath, JSON.stringify({ ...JSON.parse(readFileSync(path.join(FIXTURES, 'coop-unified-end.case.json'), 'utf8')), logit_scale: scale }));
      runCase(['--cpu'], model, casePath);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says what is missing', () => {
    const r = spawnSync('npx', ['tsx', 'scripts/coop-grad.ts', '--cpu'], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--model DIR is required/);
  });
});
