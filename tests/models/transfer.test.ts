/** Transfer progress (per file, total, rate, ETA) and the storage-quota check's message. */
import { describe, expect, it } from 'vitest';
import { checkQuota, QuotaError, quotaMessage } from '../../src/models/sources/browser-store';
import { formatDuration, TransferProgress } from '../../src/models/sources/transfer';

describe('transfer progress', () => {
  it('counts per file and in total, with a rate and an ETA once half a second is measured', () => {
    let now = 0;
    const p = new TransferProgress(() => now);
    p.expect('config.json', 1000);
    p.expect('onnx/text_model.onnx', 10_000_000, 2_000_000);
    p.add('config.json', 1000);
    p.finish('config.json');
    expect(p.snapshot().rate).toBe(0);
    expect(p.snapshot().eta).toBeNull();
    now = 1000;
    p.add('onnx/text_model.onnx', 4_000_000);
    const s = p.snapshot();
    expect(s.loaded).toBe(6_001_000);
    expect(s.total).toBe(10_001_000);
    expect(s.files.map((f) => [f.path, f.loaded, f.done])).toEqual([
      ['config.json', 1000, true],
      ['onnx/text_model.onnx', 6_000_000, false],
    ]);
    // Bytes already on disk from an earlier try count as loaded but not towards the rate.
    expect(s.rate).toBe(4_000_000);
    expect(s.eta).toBe(1);
    p.restart('onnx/text_model.onnx');
    expect(p.snapshot().loaded).toBe(1000);
    expect(formatDuration(3725)).toBe('1 h 2 min');
  });
});

describe('storage quota', () => {
  it('refuses what does not fit, saying how much is needed and how much is free', async () => {
    const error = await checkQuota(600 * 1024 ** 2, 'Xenova/clip-vit-base-patch32', async () => 250 * 1024 ** 2).catch((e) => e);
    expect(error).toBeInstanceOf(QuotaError);
    expect(error.message).toBe(
      "Xenova/clip-vit-base-patch32 needs 600.0 MB more in the browser's storage, but only 250.0 MB is free. Remove a stored model (Remove in the model list) or free disk space, then try again.",
    );
    expect(error.message).toBe(quotaMessage(600 * 1024 ** 2, 250 * 1024 ** 2, 'Xenova/clip-vit-base-patch32'));
    await expect(checkQuota(100, 'x', async () => 1000)).resolves.toBeUndefined();
  });
});
