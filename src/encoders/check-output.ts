import type { Tensor } from 'onnxruntime-web/webgpu';

/** The float data of an [rows, width] output, refusing any other shape with a message naming the file. */
export function rowsOf(tensor: Tensor | undefined, name: string, rows: number, width: number, file: string): Float32Array {
  if (!tensor) throw new Error(`${file} produced no "${name}" output`);
  const dims = tensor.dims;
  if (dims.length !== 2 || dims[0] !== rows || dims[1] !== width) {
    throw new Error(
      `${file} output "${name}" has shape [${dims.join(', ')}], expected [${rows}, ${width}] ` +
        `(manifest.json embed_dim is ${width})`,
    );
  }
  if (tensor.type !== 'float32') throw new Error(`${file} output "${name}" is ${tensor.type}, expected float32`);
  return tensor.data as Float32Array;
}
