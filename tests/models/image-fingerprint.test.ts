import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { imageFingerprintOf } from '../../src/app/store/image-fingerprint';
import { loadModelDir } from '../../src/cli/model-dir';
import { imageModelFingerprint, sha256Hex } from '../../src/models/fingerprint';
import { loadModel } from '../../src/models/load';
import { nodeDirSource } from '../../src/models/sources/node-dir';

const TOY = join(__dirname, '../../public/models/toy-clip');
const nodeSha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

describe('image-model fingerprint (coop-adapter files, the CLI feature cache)', () => {
  it('the app (loadModel + imageFingerprintOf) and the command line (loadModelDir) agree on the toy model', async () => {
    const cli = await loadModelDir(TOY);
    const app = await imageFingerprintOf(await loadModel(nodeDirSource(TOY)));
    expect(app).toMatch(/^[0-9a-f]{64}$/);
    expect(app).toBe(cli.visionFingerprint);
    // The recipe the command line used before it moved to src/models/fingerprint.ts (node:crypto): cache folders
    // already on disk are named by it, so it must not change.
    const vision = new Uint8Array(readFileSync(cli.visionPath));
    expect(app).toBe(nodeSha(nodeSha(vision) + JSON.stringify(cli.preprocess)));
  });

  it('changes with the preprocessing and with the bytes; strings hash as UTF-8', async () => {
    const bytes = new Uint8Array([1, 2, 3]);
    const cli = await loadModelDir(TOY);
    const a = await imageModelFingerprint(bytes, cli.preprocess);
    expect(await imageModelFingerprint(bytes, { ...cli.preprocess, cropHeight: cli.preprocess.cropHeight + 1 })).not.toBe(a);
    expect(await imageModelFingerprint(new Uint8Array([1, 2, 4]), cli.preprocess)).not.toBe(a);
    expect(await sha256Hex('café ✓')).toBe(nodeSha('café ✓'));
  });
});
