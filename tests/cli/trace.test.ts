/**
 * Trajectory parity with the original: our trainer (SGD, schedule, engine) over exactly the batches of a PyTorch
 * run made by tools/coop-trace/trace.py with CoOp's semantics (SGD momentum 0.9 + weight decay 5e-4 on the context,
 * Dassl's constant warm-up then cosine stepped once per epoch), unified and class-specific context.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadAll } from '../../src/cli/common';
import { checkCase, compareTrajectories, runTrace } from '../../src/cli/trace';

const MODEL = 'public/models/toy-clip';

describe.each(['unified', 'csc'])('coop:trace vs PyTorch (%s context)', (kind) => {
  it('matches the loss and lr of every step and the context after every epoch to fp32 tolerance', async () => {
    const file = `tests/fixtures/coop-trace-${kind}.json`;
    const raw = JSON.parse(readFileSync(file, 'utf8'));
    const c = checkCase(raw, file);
    const trace = await runTrace(c, await loadAll(MODEL));
    const exp = raw.expected as { loss: number[]; lr: number[]; ctx: number[][] };
    expect(trace.loss.length).toBe(exp.loss.length);
    trace.loss.forEach((l, i) => expect(Math.abs(l - exp.loss[i])).toBeLessThan(1e-5));
    trace.lr.forEach((l, i) => expect(l).toBeCloseTo(exp.lr[i], 12));
    expect(trace.ctx.length).toBe(exp.ctx.length);
    const rows = compareTrajectories(trace.ctx, exp.ctx, c.ctx);
    for (const r of rows) {
      // fp32: a few ulps of the context's size per step, and a tiny fraction of how far training moved it. (Measured:
      // ≤ 1.6e-7 abs, ≤ 2e-6 of the update after the warm-up epoch; dropping the weight decay gives 2.6e-6 / 3e-5.)
      expect(r.maxAbs).toBeLessThan(5e-7);
      expect(r.relToUpdate).toBeLessThan(r.epoch === 1 ? 1e-3 : 1e-5);
    }
    // The case is discriminative: training moved the context far beyond the tolerance.
    const moved = Math.max(...exp.ctx[exp.ctx.length - 1].map((x, i) => Math.abs(x - c.ctx[i])));
    expect(moved).toBeGreaterThan(1e-2);
  });
});
