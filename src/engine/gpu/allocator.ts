/**
 * Buffer allocation with byte accounting. The engine reports how much GPU
 * memory it really holds, so every buffer it owns should come from here.
 * Sizes are rounded up to 4 bytes (WebGPU requires it for storage and copies),
 * and the rounded size is what is counted.
 */
export const STORAGE_USAGE = 0x80 | 0x04 | 0x08; // STORAGE | COPY_SRC | COPY_DST

export interface AllocOptions {
  usage?: GPUBufferUsageFlags;
  label?: string;
}

export class GpuAllocator {
  readonly device: GPUDevice;
  private sizes = new Map<GPUBuffer, number>();
  private live = 0;
  private peak = 0;
  private total = 0;
  private count = 0;

  constructor(device: GPUDevice) {
    this.device = device;
  }

  /** Bytes held right now. */
  get liveBytes(): number {
    return this.live;
  }
  /** Highest `liveBytes` ever reached. */
  get peakBytes(): number {
    return this.peak;
  }
  /** Sum of every allocation ever made (grows even when buffers are freed). */
  get totalBytes(): number {
    return this.total;
  }
  get liveBuffers(): number {
    return this.sizes.size;
  }
  get allocations(): number {
    return this.count;
  }

  /** Zero-initialised buffer (WebGPU guarantees zeroed contents). */
  create(byteLength: number, options: AllocOptions = {}): GPUBuffer {
    const size = alignedSize(byteLength);
    const buffer = this.device.createBuffer({ size, usage: options.usage ?? STORAGE_USAGE, label: options.label });
    this.record(buffer, size);
    return buffer;
  }

  /** Buffer initialised from `data` without a staging copy. */
  fromData(data: ArrayBufferView, options: AllocOptions = {}): GPUBuffer {
    const size = alignedSize(data.byteLength);
    const buffer = this.device.createBuffer({
      size,
      usage: options.usage ?? STORAGE_USAGE,
      label: options.label,
      mappedAtCreation: true,
    });
    new Uint8Array(buffer.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    buffer.unmap();
    this.record(buffer, size);
    return buffer;
  }

  /** Destroys a buffer made by this allocator; unknown buffers are ignored. */
  destroy(buffer: GPUBuffer): void {
    const size = this.sizes.get(buffer);
    if (size === undefined) return;
    this.sizes.delete(buffer);
    this.live -= size;
    buffer.destroy();
  }

  destroyAll(): void {
    for (const b of [...this.sizes.keys()]) this.destroy(b);
  }

  /** Lets a caller restart peak tracking, e.g. per training step. */
  resetPeak(): void {
    this.peak = this.live;
  }

  private record(buffer: GPUBuffer, size: number): void {
    this.sizes.set(buffer, size);
    this.live += size;
    this.total += size;
    this.count++;
    if (this.live > this.peak) this.peak = this.live;
  }
}

export function alignedSize(byteLength: number): number {
  return Math.max(4, Math.ceil(byteLength / 4) * 4);
}
