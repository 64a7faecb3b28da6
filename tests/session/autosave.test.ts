/**
 * Autosave's timing (src/session/autosave.ts): a burst of edits is one write, but changes that never stop (a run's
 * steps) are still written at least every maxWait, and flushNow writes what is pending at once.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { autosaveTimer } from '../../src/session/autosave';

describe('autosave timer', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('a burst of changes is one write, after the quiet delay', async () => {
    const write = vi.fn(async () => {});
    const a = autosaveTimer(write, 300, 2000);
    for (let i = 0; i < 5; i++) {
      a.schedule();
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(write).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(300);
    expect(write).toHaveBeenCalledTimes(1);
  });

  it('changes every 250 ms (a run stepping) are written every 2 s, not only when they stop', async () => {
    const write = vi.fn(async () => {});
    const a = autosaveTimer(write, 300, 2000);
    for (let t = 0; t < 10_000; t += 250) {
      a.schedule();
      await vi.advanceTimersByTimeAsync(250);
    }
    // A plain 300 ms debounce would not have written once in these 10 s.
    expect(write.mock.calls.length).toBeGreaterThanOrEqual(4);
    expect(write.mock.calls.length).toBeLessThanOrEqual(6);
  });

  it('flushNow writes what is pending at once and waits for the writes in flight', async () => {
    let done = 0;
    const write = vi.fn(async () => {
      await new Promise((r) => setTimeout(r, 50));
      done++;
    });
    const a = autosaveTimer(write, 300, 2000);
    a.schedule();
    const flushed = a.flushNow();
    await vi.advanceTimersByTimeAsync(50);
    await flushed;
    expect(done).toBe(1);
    await a.flushNow();
    expect(write).toHaveBeenCalledTimes(1);
  });
});
