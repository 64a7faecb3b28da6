/**
 * src/cli/datasets/python-random.ts against Python's own `random` (tests/fixtures/dassl-split/random.json, printed by
 * tools/dassl-split/reference.py under CPython 3.11): seeding from ints of every size and sign, the twist,
 * getrandbits, random(), _randbelow, both branches of sample, choices, and the threshold between the branches.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PythonRandom, sampleSetSize } from '../../src/cli/datasets/python-random';

interface Case {
  seed: number | string;
  op: string;
  args: number[];
  result: number[];
}

// Seeds beyond 2^53 lose digits as JSON numbers: re-read them exactly from the text.
const text = readFileSync('tests/fixtures/dassl-split/random.json', 'utf8').replace(/"seed":(-?\d{16,})/g, '"seed":"$1"');
const fixture = JSON.parse(text) as { python: string; cases: Case[]; setsize: Record<string, number> };
const seedOf = (s: number | string) => (typeof s === 'string' ? BigInt(s) : s);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

function run(c: Case): number[] {
  const r = new PythonRandom(seedOf(c.seed));
  switch (c.op) {
    case 'uint32':
      return range(c.args[0]).map(() => r.getrandbits(32));
    case 'uint32_after':
      for (let i = 0; i < c.args[0]; i++) r.getrandbits(32);
      return range(c.args[1]).map(() => r.getrandbits(32));
    case 'getrandbits':
      return range(5).map(() => r.getrandbits(c.args[0]));
    case 'random':
      return range(c.args[0]).map(() => r.random());
    case 'randbelow':
      return range(8).map(() => r.randbelow(c.args[0]));
    case 'sample':
      return r.sample(range(c.args[0]), c.args[1]);
    case 'choices':
      return r.choices(range(c.args[0]), c.args[1]);
    default:
      throw new Error(`unknown op ${c.op}`);
  }
}

describe("Python's random, reproduced", () => {
  it(`matches CPython ${fixture.python} on every recorded case`, () => {
    expect(fixture.cases.length).toBeGreaterThan(150);
    for (const c of fixture.cases) expect(run(c), `${c.op}(${c.args.join(', ')}) after seed(${c.seed})`).toEqual(c.result);
  });

  it('covers both branches of sample and seeds past 64 bits and below zero', () => {
    const samples = fixture.cases.filter((c) => c.op === 'sample');
    expect(samples.some((c) => c.args[0] <= sampleSetSize(c.args[1]))).toBe(true);
    expect(samples.some((c) => c.args[0] > sampleSetSize(c.args[1]))).toBe(true);
    expect(fixture.cases.some((c) => typeof c.seed === 'string')).toBe(true);
    expect(fixture.cases.some((c) => Number(c.seed) < 0)).toBe(true);
  });

  it("chooses sample's branch by CPython's set-size rule for k = 0..1999", () => {
    for (const [k, v] of Object.entries(fixture.setsize)) expect(sampleSetSize(Number(k)), `k = ${k}`).toBe(v);
  });

  it('refuses what Python refuses', () => {
    const r = new PythonRandom(1);
    expect(() => r.sample([1, 2], 3)).toThrow(/Sample larger than population/);
    expect(() => r.choices([], 1)).toThrow(/empty sequence/);
  });
});
