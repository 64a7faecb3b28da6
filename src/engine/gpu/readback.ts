/** Copies a GPU buffer range back to the CPU. Use for results and tests, not inside the training loop. */
export async function readBuffer(device: GPUDevice, src: GPUBuffer, byteLength = src.size, byteOffset = 0): Promise<ArrayBuffer> {
  const size = Math.ceil(byteLength / 4) * 4;
  const staging = device.createBuffer({ size, usage: 0x01 | 0x08 /* MAP_READ | COPY_DST */, label: 'readback' });
  const encoder = device.createCommandEncoder({ label: 'readback' });
  encoder.copyBufferToBuffer(src, byteOffset, staging, 0, size);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(0x0001 /* READ */);
  const out = staging.getMappedRange().slice(0, byteLength);
  staging.unmap();
  staging.destroy();
  return out;
}

export async function readF32(device: GPUDevice, src: GPUBuffer, count?: number, elementOffset = 0): Promise<Float32Array> {
  const n = count ?? src.size / 4 - elementOffset;
  return new Float32Array(await readBuffer(device, src, n * 4, elementOffset * 4));
}
