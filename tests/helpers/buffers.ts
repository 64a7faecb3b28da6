import { GpuAllocator } from '../../src/engine/gpu/allocator';

/** Test-side uploads: numbers become f32 storage buffers, ids become u32. */
export function uploadF32(alloc: GpuAllocator, data: ArrayLike<number>): GPUBuffer {
  return alloc.fromData(Float32Array.from(data));
}
export function uploadU32(alloc: GpuAllocator, data: ArrayLike<number>): GPUBuffer {
  return alloc.fromData(Uint32Array.from(data));
}
export function zerosF32(alloc: GpuAllocator, n: number): GPUBuffer {
  return alloc.create(n * 4);
}

/** Encodes one pass, submits it under error scopes and reads the given buffers back. */
export async function runAndRead(
  device: GPUDevice,
  record: (pass: GPUComputePassEncoder) => void,
  outputs: GPUBuffer[],
): Promise<Float32Array[]> {
  const { submitPass } = await import('../../src/engine/gpu/dispatch');
  const { readF32 } = await import('../../src/engine/gpu/readback');
  const { withValidation } = await import('./webgpu');
  return withValidation(device, async () => {
    submitPass(device, record);
    const out: Float32Array[] = [];
    for (const b of outputs) out.push(await readF32(device, b));
    return out;
  });
}
