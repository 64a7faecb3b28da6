/** The run setting that picks the optimizer, wherever settings are made, stored or shown. */
import { describe, expect, it } from 'vitest';
import { optimizerOf } from '../../src/coop/param-optimizer';
import { withDefaults } from '../../src/coop/settings';
import { parseArgs } from '../../src/cli/args';
import { settingsFrom, TRAIN_OPTIONS } from '../../src/cli/train';
import { runName } from '../../src/session/runs';
import { formatHash, parseHashSettings } from '../../src/session/url-hash';

describe('the optimizer setting', () => {
  it("defaults to CoOp's SGD, also for settings saved before it existed", () => {
    expect(withDefaults()).not.toHaveProperty('optimizer');
    expect(optimizerOf(withDefaults())).toBe('sgd');
    expect(optimizerOf({ optimizer: 'adam' })).toBe('adam');
  });

  it('travels in the URL hash only when it is Adam, so older links and SGD links read as before', () => {
    const sgd = formatHash('train', withDefaults(), 'end');
    expect(sgd).not.toContain('opt=');
    expect(parseHashSettings(sgd).settings).not.toHaveProperty('optimizer');
    const adam = formatHash('train', withDefaults({ optimizer: 'adam' }), 'end');
    expect(adam).toContain('opt=adam');
    expect(parseHashSettings(adam).settings.optimizer).toBe('adam');
    expect(parseHashSettings('#train&opt=rmsprop').settings).toEqual({});
  });

  it('is a command-line option (--optimizer sgd|adam)', () => {
    expect(optimizerOf(settingsFrom(parseArgs([], TRAIN_OPTIONS)))).toBe('sgd');
    expect(settingsFrom(parseArgs(['--optimizer', 'sgd'], TRAIN_OPTIONS))).not.toHaveProperty('optimizer');
    expect(settingsFrom(parseArgs(['--optimizer', 'adam'], TRAIN_OPTIONS)).optimizer).toBe('adam');
    expect(() => settingsFrom(parseArgs(['--optimizer', 'adamw'], TRAIN_OPTIONS))).toThrow("--optimizer must be one of sgd, adam, got 'adamw'");
  });

  it("is named in a run's name when it is Adam", () => {
    expect(runName(withDefaults(), 'end', 1)).not.toMatch(/Adam/);
    expect(runName(withDefaults({ optimizer: 'adam' }), 'end', 2)).toMatch(/lr 0\.002 \(Adam\)/);
  });
});
