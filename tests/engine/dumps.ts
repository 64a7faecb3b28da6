/** Node-side (synchronous) access to the CoOp dumps and toy-clip weights; the browser uses helpers/assets.ts. */
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { loadTextWeights, type TextWeights } from '../../src/engine/model/text-weights';
import { loadFixture, readArrayBuffer, TOY_CLIP } from '../helpers/fixture';
import { dumpFromFixture, type Dump } from './dump-spec';

export { DUMPS, type Dump } from './dump-spec';

let cached: TextWeights | undefined;
export function toyClipWeights(): TextWeights {
  cached ??= loadTextWeights(
    readArrayBuffer(path.join(TOY_CLIP, 'onnx', 'text_model.onnx')),
    JSON.parse(readFileSync(path.join(TOY_CLIP, 'config.json'), 'utf8')),
  );
  return cached;
}

export function toyClipManifest(): { logit_scale: number } {
  return JSON.parse(readFileSync(path.join(TOY_CLIP, 'manifest.json'), 'utf8'));
}

export function loadDump(name: string): Dump {
  return dumpFromFixture(loadFixture(name));
}
