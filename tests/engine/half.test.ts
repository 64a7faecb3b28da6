import { describe, expect, it } from 'vitest';
import { floatToHalf, floatToHalfBits, halfBytesToFloat, halfToFloat } from '../../src/engine/model/half';

describe('half precision', () => {
  it('converts known values both ways, as IEEE 754 binary16', () => {
    const cases: Array<[number, number]> = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [0.5, 0x3800],
      [65504, 0x7bff], // largest half
      [2 ** -14, 0x0400], // smallest normal
      [2 ** -24, 0x0001], // smallest subnormal
      [Infinity, 0x7c00],
      [-Infinity, 0xfc00],
    ];
    for (const [v, bits] of cases) {
      expect(floatToHalfBits(v)).toBe(bits);
      expect(Object.is(halfToFloat(Uint16Array.of(bits))[0], v)).toBe(true);
    }
    expect(Number.isNaN(halfToFloat(Uint16Array.of(floatToHalfBits(NaN)))[0])).toBe(true);
  });

  it('rounds to nearest, ties to even, and overflows to infinity as numpy does', () => {
    expect(floatToHalfBits(1 + 2 ** -11)).toBe(0x3c00); // tie: stays on the even 1.0
    expect(floatToHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie: rounds up to even
    expect(floatToHalfBits(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01); // above the tie
    expect(floatToHalfBits(65520)).toBe(0x7c00);
    expect(floatToHalfBits(3 * 2 ** -25)).toBe(0x0002); // subnormal tie to even
    expect(floatToHalfBits(2 ** -26)).toBe(0x0000);
  });

  it('round-trips every half exactly, and reads unaligned bytes', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const floats = halfToFloat(all);
    const back = floatToHalf(floats);
    const wrong: number[] = [];
    for (let i = 0; i < 65536; i++) {
      const nan = (i & 0x7c00) === 0x7c00 && (i & 0x3ff) !== 0;
      if (!nan && back[i] !== i) wrong.push(i);
    }
    expect(wrong).toEqual([]);
    const bytes = new Uint8Array(7);
    bytes.set(new Uint8Array(Uint16Array.of(0x3c00, 0xc000, 0x7bff).buffer), 1);
    expect(Array.from(halfBytesToFloat(bytes.subarray(1), 3))).toEqual([1, -2, 65504]);
  });
});
