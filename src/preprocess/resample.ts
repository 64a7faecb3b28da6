// A port of the arithmetic in Pillow's libImaging/Resample.c for 8-bit images, so that resizing here gives the
// same bytes as PIL's Image.resize(..., BICUBIC), which CLIP's preprocessing (and its training data) used.

// Pillow's fixed-point fraction bits: 32 bits minus 8 for the pixel value minus 2 of headroom.
const PRECISION_BITS = 32 - 8 - 2;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);

const BICUBIC_SUPPORT = 2;

/** Keys' cubic with a = -0.5, written in Pillow's operation order so the doubles agree bit for bit. */
function bicubic(x: number): number {
  const a = -0.5;
  if (x < 0) x = -x;
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

interface Coefficients {
  /** Taps per output sample (the stride of `weights`). */
  ksize: number;
  /** Per output sample: first input index and tap count. */
  bounds: Int32Array;
  /** Fixed-point weights, `ksize` per output sample. */
  weights: Int32Array;
}

/** precompute_coeffs + normalize_coeffs_8bpc for a whole-image box (0..inSize). */
function coefficients(inSize: number, outSize: number): Coefficients {
  const scale = inSize / outSize;
  // Shrinking widens the kernel by the scale factor, which is what makes PIL's downscaling antialiased.
  const filterScale = Math.max(scale, 1);
  const support = BICUBIC_SUPPORT * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  const ss = 1 / filterScale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      k[x] = bicubic((x + xmin - center + 0.5) * ss);
      ww += k[x];
    }
    for (let x = 0; x < xmax; x++) {
      const w = ww !== 0 ? k[x] / ww : k[x];
      // C's (int) cast truncates toward zero after the half offset.
      weights[xx * ksize + x] = Math.trunc(w < 0 ? -0.5 + w * ONE : 0.5 + w * ONE);
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, weights };
}

function clip8(acc: number): number {
  if (acc >= ONE * 256) return 255;
  if (acc <= 0) return 0;
  return acc >> PRECISION_BITS;
}

/**
 * Resizes interleaved uint8 pixels (any channel count) with PIL's bicubic filter: a horizontal pass, then a
 * vertical pass, each rounding and clipping to uint8 as Pillow does. A pass whose size is unchanged is skipped.
 */
export function resizeBicubic(
  src: Uint8Array,
  width: number,
  height: number,
  channels: number,
  outWidth: number,
  outHeight: number,
): Uint8Array {
  let img = src;
  let w = width;
  if (outWidth !== width) {
    const { ksize, bounds, weights } = coefficients(width, outWidth);
    const tmp = new Uint8Array(outWidth * height * channels);
    for (let y = 0; y < height; y++) {
      const row = y * width * channels;
      for (let xx = 0; xx < outWidth; xx++) {
        const xmin = bounds[xx * 2];
        const n = bounds[xx * 2 + 1];
        const kOff = xx * ksize;
        for (let c = 0; c < channels; c++) {
          let acc = HALF;
          for (let x = 0; x < n; x++) acc += img[row + (xmin + x) * channels + c] * weights[kOff + x];
          tmp[(y * outWidth + xx) * channels + c] = clip8(acc);
        }
      }
    }
    img = tmp;
    w = outWidth;
  }
  if (outHeight !== height) {
    const { ksize, bounds, weights } = coefficients(height, outHeight);
    const out = new Uint8Array(w * outHeight * channels);
    const stride = w * channels;
    for (let yy = 0; yy < outHeight; yy++) {
      const ymin = bounds[yy * 2];
      const n = bounds[yy * 2 + 1];
      const kOff = yy * ksize;
      for (let i = 0; i < stride; i++) {
        let acc = HALF;
        for (let y = 0; y < n; y++) acc += img[(ymin + y) * stride + i] * weights[kOff + y];
        out[yy * stride + i] = clip8(acc);
      }
    }
    img = out;
  }
  return img === src ? src.slice() : img;
}
