/**
 * CPU twins take and return row-major arrays. They are generic over Float32Array
 * (matching the GPU) and Float64Array (so finite-difference gradient checks are
 * not limited by fp32 rounding); outputs use the constructor of the first input.
 */
export type Arr = Float32Array | Float64Array;
export type IndexArr = Uint32Array | Int32Array | ArrayLike<number>;

export function like(x: Arr, length: number): Arr {
  return x instanceof Float64Array ? new Float64Array(length) : new Float32Array(length);
}

export function checkLength(name: string, x: ArrayLike<number>, expected: number): void {
  if (x.length < expected) throw new Error(`${name}: expected at least ${expected} elements, got ${x.length}`);
}
