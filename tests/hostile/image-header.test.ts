/** An image whose header claims 60,000 × 60,000 pixels is refused by its header, before any decoder runs (issue 22). */
import { describe, expect, it } from 'vitest';
import { decodeFile } from '../../src/cli/decode';
import { TooLargeError } from '../../src/input-limits';
import { decodeImage } from '../../src/preprocess/decode';
import { pngHeader } from './png';

const message = 'huge.png is 60000×60000 (3600 megapixels), over the limit of 50 megapixels';

describe('image headers', () => {
  it('the page refuses it before createImageBitmap (absent in Node: reaching it would fail differently)', async () => {
    const e = await decodeImage(new Blob([pngHeader(60_000, 60_000)]), 'huge.png').catch((x: Error) => x);
    expect(e).toBeInstanceOf(TooLargeError);
    expect((e as Error).message).toBe(message);
  });

  it('the command line refuses it before sharp is loaded, with the size and the limit', async () => {
    await expect(decodeFile(pngHeader(60_000, 60_000), 'huge.png')).rejects.toThrow(new TooLargeError('huge.png', '60000×60000 (3600 megapixels)', '50 megapixels'));
  });
});
