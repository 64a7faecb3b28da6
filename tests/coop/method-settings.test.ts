import { describe, expect, it } from 'vitest';
import { CLAP_DEFAULTS } from '../../src/coop/clap';
import { CLIP_ADAPTER_DEFAULTS, clipAdapterEpochs } from '../../src/coop/clip-adapter';
import { LPPP_DEFAULTS } from '../../src/coop/lp-plus-plus';
import { DEFAULT_METHOD_SETTINGS, isFeatureMethod, learnsPrompt, parseMethods } from '../../src/coop/method-settings';
import { taskResEpochs, taskResSettings } from '../../src/coop/taskres';
import { promptMethodConfig } from '../../src/coop/prompt-methods';

describe('methods', () => {
  it('parses --method lists in order, once each, and names the known methods on a typo', () => {
    expect(parseMethods('coop, KgCoOp,prograd,tip,tip-f,coop')).toEqual(['coop', 'kgcoop', 'prograd', 'tip', 'tip-f']);
    expect(() => parseMethods('coop,tipf')).toThrow(/unknown method 'tipf': use one or more of coop, kgcoop, prograd, cocoop, deep, tcp, dept-coop, dept-kgcoop, tip, tip-f/);
    expect(parseMethods('CoCoOp,deep,TCP,dept,dept-kgcoop,ivlp')).toEqual(['cocoop', 'deep', 'tcp', 'dept-coop', 'dept-kgcoop']);
    expect(['cocoop', 'deep', 'tcp', 'dept-coop', 'dept-kgcoop'].every((m) => learnsPrompt(m as never) && !isFeatureMethod(m as never))).toBe(true);
    expect(() => parseMethods(' , ')).toThrow(/no method given/);
    expect(learnsPrompt('prograd')).toBe(true);
    expect(learnsPrompt('tip-f')).toBe(false);
    expect(parseMethods('CLAP,lp++,lpp,TaskRes,clip-adapter')).toEqual(['clap', 'lpp', 'taskres', 'clip-adapter']);
    expect(['clap', 'lpp', 'taskres', 'clip-adapter'].every((m) => isFeatureMethod(m as never) && !learnsPrompt(m as never))).toBe(true);
    expect(isFeatureMethod('tip')).toBe(false);
  });

  it("the feature-only baselines' official recipes, per dataset and shots where the official varies them", () => {
    expect([CLAP_DEFAULTS.lr, CLAP_DEFAULTS.batchSize, CLAP_DEFAULTS.epochs, CLAP_DEFAULTS.weightDecay, CLAP_DEFAULTS.warmupLr]).toEqual([0.1, 256, 300, 0, 1e-5]);
    expect([LPPP_DEFAULTS.epochs, LPPP_DEFAULTS.alphaInitScale, LPPP_DEFAULTS.alphaEvery]).toEqual([300, 250, 10]);
    expect(taskResSettings('oxford_flowers')).toEqual({ alpha: 1, lr: 2e-3 });
    expect(taskResSettings('imagenet')).toEqual({ alpha: 0.5, lr: 2e-4 });
    expect(taskResSettings(null)).toEqual({ alpha: 0.5, lr: 2e-3 });
    expect([1, 2, 4, 8, 16].map(taskResEpochs)).toEqual([100, 100, 100, 200, 200]);
    expect([CLIP_ADAPTER_DEFAULTS.ratio, CLIP_ADAPTER_DEFAULTS.reduction, CLIP_ADAPTER_DEFAULTS.lr, CLIP_ADAPTER_DEFAULTS.batchSize]).toEqual([0.2, 4, 0.002, 32]);
    expect([1, 2, 4, 8, 16].map(clipAdapterEpochs)).toEqual([50, 100, 100, 200, 200]);
  });

  it('official defaults: KgCoOp w = 8, ProGrad T = 1 and λ = 1, TCP w = 8, DePT λ = 0.7 with KgCoOp w = 2; the teacher scale is clamped at 100', () => {
    expect(DEFAULT_METHOD_SETTINGS).toEqual({ kgWeight: 8, progradT: 1, progradLambda: 1, tcpWeight: 8, deptLpWeight: 0.7, deptKgWeight: 2 });
    const hand = new Float32Array([1, 0, 0, 1]);
    const cfg = promptMethodConfig('prograd', DEFAULT_METHOD_SETTINGS, hand, 250, 2, 2);
    expect(cfg.method === 'prograd' && Array.from(cfg.prograd.zeroShotLogits(new Float32Array([1, 0])))).toEqual([100, 0]);
    expect(() => promptMethodConfig('kgcoop', DEFAULT_METHOD_SETTINGS, null, 100, 2, 2)).toThrow(/KgCoOp needs the hand-written prompts' text features \(2×2\)/);
  });
});
