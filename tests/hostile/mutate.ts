/**
 * Mutations of valid inputs for the parsers' property tests (issue 22): a JSON document with values replaced,
 * removed or blown up, and a byte string with bytes flipped, cut short, spliced or stamped with large varints.
 * Every parser must end each case in a value or our own error, never a crash, a hang or an unbounded allocation.
 */
import fc from 'fast-check';

/** Values that break parsers: wrong types, negative and enormous numbers, long strings, deep and wide shapes. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything({ maxDepth: 2, maxKeys: 3, withNullPrototype: false }),
  fc.constantFrom(0, -1, 1.5, 1e9, 2 ** 31, 2 ** 32, 2 ** 53, -(2 ** 53), 1e308, '', null, true, [], {}, 'x'.repeat(2000), '__proto__', 'constructor'),
  fc.integer(),
  fc.double(),
  fc.array(fc.integer(), { maxLength: 50 }),
);

type Json = unknown;

/** Every place in the tree a value sits: [container, key]. */
function places(v: Json, out: Array<[Record<string, unknown> | unknown[], string | number]> = []): Array<[Record<string, unknown> | unknown[], string | number]> {
  if (Array.isArray(v)) v.forEach((x, i) => (out.push([v, i]), places(x, out)));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push([v as Record<string, unknown>, k]), places(x, out);
  return out;
}

export type JsonMutation = { at: number; kind: 'set' | 'delete' | 'grow'; value: unknown; times: number };

const jsonMutation: fc.Arbitrary<JsonMutation> = fc.record({
  at: fc.nat(),
  kind: fc.constantFrom('set', 'set', 'delete', 'grow'),
  value: hostileValue,
  times: fc.integer({ min: 2, max: 300 }),
});

/** Applies mutations to a deep copy of `doc`: a value replaced, a key or element removed, an array repeated `times`. */
export function mutateJson(doc: Json, muts: JsonMutation[]): Json {
  const copy = structuredClone(doc);
  for (const m of muts) {
    const all = places(copy);
    if (!all.length) break;
    const [container, key] = all[m.at % all.length];
    const obj = container as Record<string | number, unknown>;
    if (m.kind === 'set') obj[key] = m.value;
    else if (m.kind === 'delete') {
      if (Array.isArray(container)) container.splice(key as number, 1);
      else delete obj[key];
    } else {
      const v = obj[key];
      obj[key] = Array.isArray(v) ? Array.from({ length: m.times }, (_, i) => v[i % Math.max(1, v.length)]) : Array.from({ length: m.times }, () => v);
    }
  }
  return copy;
}

export const jsonMutations = fc.array(jsonMutation, { minLength: 1, maxLength: 3 });

export type ByteMutation =
  | { kind: 'flip'; at: number; value: number }
  | { kind: 'cut'; at: number }
  | { kind: 'splice'; at: number; bytes: Uint8Array }
  | { kind: 'varint'; at: number; value: number };

const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('splice' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 16 }) }),
  // A large protobuf varint (or little-endian size) stamped over whatever was there: declared lengths and dims.
  fc.record({ kind: fc.constant('varint' as const), at: fc.nat(), value: fc.constantFrom(2 ** 31, 2 ** 32 - 1, 2 ** 40, 1e12, 2 ** 53 - 1, 127, 16383) }),
);

export const byteMutations = fc.array(byteMutation, { minLength: 1, maxLength: 4 });

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 128) {
    out.push((n % 128) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/** Applies byte mutations to a copy; `focus` (optional) biases positions into [0, focus) (headers live at the start). */
export function mutateBytes(bytes: Uint8Array, muts: ByteMutation[], focus?: number): Uint8Array {
  let b = bytes.slice();
  for (const m of muts) {
    const span = focus && m.at % 2 === 0 ? Math.min(focus, b.length) : b.length;
    const at = span ? m.at % span : 0;
    if (m.kind === 'flip') b[at] = m.value;
    else if (m.kind === 'cut') b = b.slice(0, at);
    else if (m.kind === 'splice') {
      const out = new Uint8Array(b.length + m.bytes.length);
      out.set(b.subarray(0, at));
      out.set(m.bytes, at);
      out.set(b.subarray(at), at + m.bytes.length);
      b = out;
    }
    else {
      const v = varint(m.value);
      for (let i = 0; i < v.length && at + i < b.length; i++) b[at + i] = v[i];
    }
  }
  return b;
}

/** Runs `fn` and returns its time in ms (the tests print the slowest case; they never assert on it). */
export function timed<T>(fn: () => T): [T, number] {
  const t0 = performance.now();
  const r = fn();
  return [r, performance.now() - t0];
}
