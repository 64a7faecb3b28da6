import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  centerCropOffsets,
  cropAndNormalize,
  decodeImage,
  loadPreprocessorConfig,
  preprocessPixels,
  resizeShorterSide,
  roundHalfEven,
  shorterSideSize,
  sniffImageSize,
} from '../src/preprocess';

// Fixtures come from tools/pil-reference/make_reference.py (Pillow's Image.resize BICUBIC + numpy float32).
const dir = path.resolve(__dirname, 'fixtures/preprocess');

interface IndexEntry {
  name: string;
  width: number;
  height: number;
  source: string;
  outputs: Array<{ size: number; resized: string; resized_width: number; resized_height: number; tensor: string }>;
}
const index = JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8')) as {
  pil_version: string;
  images: IndexEntry[];
};

const bytes = (file: string) => new Uint8Array(readFileSync(path.join(dir, file)));
const floats = (file: string) => {
  const b = readFileSync(path.join(dir, file));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const cases = index.images.flatMap((img) => img.outputs.map((o) => ({ img, o, label: `${img.name} @${o.size}` })));

// Measured against Pillow 9.4.0: resized uint8 identical (max diff 0) and the normalised tensor identical
// (max abs error 0), since the fixed-point resampler and the float32 steps are ported exactly.
describe(`matches PIL ${index.pil_version} (max abs error 0 on uint8 and on the tensor)`, () => {
  it.each(cases)('resize of $label equals Image.resize(BICUBIC) byte for byte', ({ img, o }) => {
    const resized = resizeShorterSide(bytes(img.source), img.width, img.height, o.size);
    expect([resized.width, resized.height]).toEqual([o.resized_width, o.resized_height]);
    const diff = maxAbsDiff(resized.pixels, bytes(o.resized));
    console.log(`[preprocess.test] ${img.name} @${o.size}: resized uint8 max abs diff vs PIL = ${diff}`);
    expect(diff).toBe(0);
  });

  it.each(cases)('normalised tensor of $label equals the reference', ({ img, o }) => {
    const cfg = loadPreprocessorConfig({ size: { shortest_edge: o.size }, crop_size: { height: o.size, width: o.size } });
    const tensor = preprocessPixels(bytes(img.source), img.width, img.height, 3, cfg);
    const ref = floats(o.tensor);
    expect(tensor.length).toBe(3 * o.size * o.size);
    const err = maxAbsDiff(tensor, ref);
    console.log(`[preprocess.test] ${img.name} @${o.size}: tensor max abs error vs PIL/numpy = ${err}`);
    expect(err).toBe(0);
  });

  it('drops alpha from RGBA input, as convert("RGB") does', () => {
    const img = index.images[0];
    const rgb = bytes(img.source);
    const rgba = new Uint8ClampedArray(img.width * img.height * 4);
    for (let i = 0; i < img.width * img.height; i++) {
      rgba.set(rgb.subarray(i * 3, i * 3 + 3), i * 4);
      rgba[i * 4 + 3] = i % 251;
    }
    const cfg = loadPreprocessorConfig({ size: 64 });
    expect(preprocessPixels(rgba, img.width, img.height, 4, cfg)).toEqual(
      preprocessPixels(rgb, img.width, img.height, 3, cfg),
    );
  });
});

describe('geometry as torchvision computes it', () => {
  it('truncates the long side', () => {
    expect(shorterSideSize(97, 61, 64)).toEqual({ width: 101, height: 64 });
    expect(shorterSideSize(40, 130, 224)).toEqual({ width: 224, height: 728 });
    expect(shorterSideSize(50, 50, 64)).toEqual({ width: 64, height: 64 });
  });

  it('rounds crop offsets half to even, as Python’s round()', () => {
    expect([0.5, 1.5, 2.5, 18.5, 3.2, 3.7].map(roundHalfEven)).toEqual([0, 2, 2, 18, 3, 4]);
    expect(centerCropOffsets(101, 64, 64, 64)).toEqual({ left: 18, top: 0 });
  });

  it('zero-pads when the crop is larger than the image', () => {
    expect(centerCropOffsets(3, 10, 6, 4)).toEqual({ left: -1, top: 3 });
    const cfg = loadPreprocessorConfig({ size: 1, crop_size: 3, image_mean: [0, 0, 0], image_std: [1, 1, 1] });
    const t = cropAndNormalize(new Uint8Array([255, 255, 255]), 1, 1, cfg);
    expect(Array.from(t.subarray(0, 9))).toEqual([0, 0, 0, 0, 1, 0, 0, 0, 0]);
  });
});

describe('loadPreprocessorConfig', () => {
  const toyPath = path.resolve(__dirname, '../public/models/toy-clip/preprocessor_config.json');

  it('reads the Hugging Face layout and defaults to CLIP’s mean/std', () => {
    expect(loadPreprocessorConfig({ size: 224, crop_size: 224 })).toEqual({
      shortestEdge: 224,
      cropHeight: 224,
      cropWidth: 224,
      mean: [0.48145466, 0.4578275, 0.40821073],
      std: [0.26862954, 0.26130258, 0.27577711],
    });
    expect(loadPreprocessorConfig({ size: { shortest_edge: 64 } }).cropWidth).toBe(64);
  });

  it('rejects malformed configs', () => {
    expect(() => loadPreprocessorConfig({})).toThrow(/size/);
    expect(() => loadPreprocessorConfig({ size: 64, image_std: [1, 0, 1] })).toThrow(/image_std/);
    expect(() => loadPreprocessorConfig({ size: 64, image_mean: [1, 2] })).toThrow(/image_mean/);
  });

  it.skipIf(!existsSync(toyPath))('reads the bundled toy model’s config', () => {
    const cfg = loadPreprocessorConfig(JSON.parse(readFileSync(toyPath, 'utf8')));
    expect([cfg.shortestEdge, cfg.cropHeight, cfg.cropWidth]).toEqual([64, 64, 64]);
  });
});

describe('image header sniffing', () => {
  it.each(['png', 'gif', 'jpg', 'webp', 'lossless.webp'])('reads 33x17 from a .%s header', (ext) => {
    expect(sniffImageSize(bytes(`header-33x17.${ext}`))).toEqual({ width: 33, height: 17 });
  });

  it('returns null for non-images', () => {
    expect(sniffImageSize(new TextEncoder().encode('hello, this is not an image at all'))).toBeNull();
  });
});

describe('decodeImage (browser APIs stubbed)', () => {
  afterEach(() => vi.unstubAllGlobals());

  function stubBrowser(width: number, height: number, fails = false) {
    const close = vi.fn();
    vi.stubGlobal('createImageBitmap', async () => {
      if (fails) throw new DOMException('The source image could not be decoded.', 'InvalidStateError');
      return { width, height, close };
    });
    vi.stubGlobal(
      'OffscreenCanvas',
      class {
        constructor(
          readonly width: number,
          readonly height: number,
        ) {}
        getContext() {
          return {
            drawImage: () => {},
            getImageData: (_x: number, _y: number, w: number, h: number) => ({
              data: new Uint8ClampedArray(w * h * 4).fill(7),
            }),
          };
        }
      },
    );
    return close;
  }

  it('returns RGBA pixels and releases the bitmap', async () => {
    const close = stubBrowser(33, 17);
    const img = await decodeImage(new Blob([bytes('header-33x17.png')]), 'tiny.png');
    expect([img.width, img.height, img.channels, img.pixels.length]).toEqual([33, 17, 4, 33 * 17 * 4]);
    expect(close).toHaveBeenCalledOnce();
  });

  it('names the file that cannot be decoded', async () => {
    stubBrowser(0, 0, true);
    await expect(decodeImage(new File(['plain text'], 'notes.txt'))).rejects.toThrow(
      'notes.txt is not an image the browser can decode',
    );
  });

  it('refuses huge images from the header, before decoding', async () => {
    const close = stubBrowser(1, 1);
    const png = bytes('header-33x17.png').slice();
    new DataView(png.buffer).setUint32(16, 10000);
    new DataView(png.buffer).setUint32(20, 8000);
    await expect(decodeImage(new Blob([png]), 'big.png')).rejects.toThrow(
      'big.png is 10000×8000 (80 megapixels), over the limit of 50 megapixels',
    );
    expect(close).not.toHaveBeenCalled();
  });

  it('refuses huge images whose header it cannot read, after decoding', async () => {
    const close = stubBrowser(9000, 6000);
    await expect(decodeImage(new Blob([new Uint8Array(64)]), 'odd.bmp')).rejects.toThrow(/9000×6000.*over the limit of 50/);
    expect(close).toHaveBeenCalledOnce();
  });
});
