import { describe, expect, it } from 'vitest';
import { DEFAULT_METHOD_SETTINGS, learnsPrompt, parseMethods } from '../../src/coop/method-settings';
import { promptMethodConfig } from '../../src/coop/prompt-methods';

describe('methods', () => {
  it('parses --method lists in order, once each, and names the known methods on a typo', () => {
    expect(parseMethods('coop, KgCoOp,prograd,tip,tip-f,coop')).toEqual(['coop', 'kgcoop', 'prograd', 'tip', 'tip-f']);
    expect(() => parseMethods('coop,tipf')).toThrow(/unknown method 'tipf': use one or more of coop, kgcoop, prograd, tip, tip-f/);
    expect(() => parseMethods(' , ')).toThrow(/no method given/);
    expect(learnsPrompt('prograd')).toBe(true);
    expect(learnsPrompt('tip-f')).toBe(false);
  });

  it('official defaults: KgCoOp w = 8, ProGrad T = 1 and λ = 1; the teacher scale is clamped at 100', () => {
    expect(DEFAULT_METHOD_SETTINGS).toEqual({ kgWeight: 8, progradT: 1, progradLambda: 1 });
    const hand = new Float32Array([1, 0, 0, 1]);
    const cfg = promptMethodConfig('prograd', DEFAULT_METHOD_SETTINGS, hand, 250, 2, 2);
    expect(cfg.method === 'prograd' && Array.from(cfg.prograd.zeroShotLogits(new Float32Array([1, 0])))).toEqual([100, 0]);
    expect(() => promptMethodConfig('kgcoop', DEFAULT_METHOD_SETTINGS, null, 100, 2, 2)).toThrow(/KgCoOp needs the hand-written prompts' text features \(2×2\)/);
  });
});
