/**
 * Python's `random` module (CPython 3.11), the parts Dassl's few-shot sampling uses, reproduced draw for draw:
 * MT19937 seeded from an integer as `random.seed(int)` does (init_by_array over the absolute value's 32-bit words,
 * least significant first), `getrandbits`, `random()`, `_randbelow` (rejection on getrandbits of n's bit length),
 * `sample` (both of its branches, chosen by CPython's set-size rule) and `choices` without weights.
 *
 * A seed therefore gives the very items Dassl's `generate_fewshot_dataset` gives (tests/cli/python-random.test.ts
 * checks it against values printed by Python itself, tools/dassl-split/reference.py).
 */

const N = 624;
const M = 397;

export class PythonRandom {
  private readonly mt = new Uint32Array(N);
  private mti = N + 1;

  constructor(seed: number | bigint = 0) {
    this.seed(seed);
  }

  /** `random.seed(a)` for an int a (Python's version 2 seeding applies to str/bytes only; ints go straight here). */
  seed(a: number | bigint): void {
    if (typeof a === 'number' && !Number.isSafeInteger(a)) throw new RangeError(`random.seed takes an integer here, got ${a}`);
    let n = BigInt(a);
    if (n < 0n) n = -n;
    const key: number[] = [];
    while (n > 0n) {
      key.push(Number(n & 0xffffffffn));
      n >>= 32n;
    }
    if (key.length === 0) key.push(0);
    this.initByArray(key);
  }

  private initGenrand(s: number): void {
    const mt = this.mt;
    mt[0] = s >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
    this.mti = N;
  }

  private initByArray(key: readonly number[]): void {
    const mt = this.mt;
    this.initGenrand(19650218);
    let i = 1;
    let j = 0;
    for (let k = Math.max(N, key.length); k > 0; k--) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      // Sums stay below 2^35, so plain doubles hold them exactly before the mod 2^32.
      mt[i] = ((mt[i] ^ Math.imul(prev, 1664525)) >>> 0) + key[j] + j;
      i++;
      j++;
      if (i >= N) {
        mt[0] = mt[N - 1];
        i = 1;
      }
      if (j >= key.length) j = 0;
    }
    for (let k = N - 1; k > 0; k--) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = ((mt[i] ^ Math.imul(prev, 1566083941)) >>> 0) - i;
      i++;
      if (i >= N) {
        mt[0] = mt[N - 1];
        i = 1;
      }
    }
    mt[0] = 0x80000000;
  }

  /** genrand_uint32: the next 32-bit output. */
  nextUint32(): number {
    const mt = this.mt;
    if (this.mti >= N) {
      let kk = 0;
      for (; kk < N - M; kk++) {
        const y = (mt[kk] & 0x80000000) | (mt[kk + 1] & 0x7fffffff);
        mt[kk] = mt[kk + M] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      for (; kk < N - 1; kk++) {
        const y = (mt[kk] & 0x80000000) | (mt[kk + 1] & 0x7fffffff);
        mt[kk] = mt[kk + (M - N)] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      const y = (mt[N - 1] & 0x80000000) | (mt[0] & 0x7fffffff);
      mt[N - 1] = mt[M - 1] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      this.mti = 0;
    }
    let y = mt[this.mti++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** `random.random()`: 53 random bits as a float in [0, 1). */
  random(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /**
   * `random.getrandbits(k)` for k ≤ 53 (a JS number holds it exactly). Above 32 bits CPython fills 32-bit words
   * least significant first, the last word's surplus bits dropped from its low end.
   */
  getrandbits(k: number): number {
    if (!Number.isInteger(k) || k < 0) throw new RangeError(`number of bits must be a non-negative integer, got ${k}`);
    if (k > 53) throw new RangeError(`getrandbits(${k}): only up to 53 bits are reproduced here`);
    if (k === 0) return 0;
    if (k <= 32) return this.nextUint32() >>> (32 - k);
    const low = this.nextUint32();
    const high = this.nextUint32() >>> (64 - k);
    return high * 4294967296 + low;
  }

  /** `random._randbelow(n)` (the getrandbits variant): k = n.bit_length() bits, redrawn while ≥ n. */
  randbelow(n: number): number {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`randbelow needs a positive integer, got ${n}`);
    const k = bitLength(n);
    let r = this.getrandbits(k);
    while (r >= n) r = this.getrandbits(k);
    return r;
  }

  /** `random.sample(population, k)`: the pool branch for small populations, the set branch otherwise. */
  sample<T>(population: readonly T[], k: number): T[] {
    const n = population.length;
    if (!Number.isInteger(k) || k < 0 || k > n) throw new RangeError('Sample larger than population or is negative');
    const result: T[] = new Array(k);
    if (n <= sampleSetSize(k)) {
      // An n-long list is smaller than a k-long set: partial shuffle of a copy, the vacancy filled from the end.
      const pool = population.slice();
      for (let i = 0; i < k; i++) {
        const j = this.randbelow(n - i);
        result[i] = pool[j];
        pool[j] = pool[n - i - 1];
      }
    } else {
      const selected = new Set<number>();
      for (let i = 0; i < k; i++) {
        let j = this.randbelow(n);
        while (selected.has(j)) j = this.randbelow(n);
        selected.add(j);
        result[i] = population[j];
      }
    }
    return result;
  }

  /** `random.choices(population, k=k)` without weights: floor(random() * n), k times, with replacement. */
  choices<T>(population: readonly T[], k: number): T[] {
    const n = population.length;
    if (n === 0) throw new RangeError('Cannot choose from an empty sequence');
    return Array.from({ length: k }, () => population[Math.floor(this.random() * n)]);
  }
}

export function bitLength(n: number): number {
  return n === 0 ? 0 : n.toString(2).length;
}

/**
 * CPython's threshold between sample's branches: 21 (a small set's size beyond an empty list's), plus the hash
 * table size 4 ** ceil(log(3k, 4)) when k > 5. math.log(x, 4) is log(x) / log(4) in doubles, as here.
 */
export function sampleSetSize(k: number): number {
  let setsize = 21;
  if (k > 5) setsize += 4 ** Math.ceil(Math.log(k * 3) / Math.log(4));
  return setsize;
}
