/**
 * ONNX models for reader tests: graphs the reader must handle (named PyTorch-layout weights, unaligned
 * raw_data, packed float_data, missing tensors) without a Python round trip. Written by the stand-in
 * generator's protobuf writer (tools/clip-standin/onnx-proto.ts), the one ONNX writer in the repository.
 */
import { modelBytes, modelMsg, type AttrValue } from '../../tools/clip-standin/onnx-proto';

export interface TestTensor {
  name: string;
  dims: number[];
  data: ArrayLike<number>;
  /** Store as packed float_data instead of raw_data. */
  asFloatData?: boolean;
}
export interface TestNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  attrs?: { name: string; i?: number; ints?: number[] }[];
}

/** Encodes a model; `pad` bytes of producer name shift all raw data to test unaligned views. */
export function writeOnnx(nodes: TestNode[], inits: TestTensor[], pad = 0): Uint8Array {
  return modelBytes(
    modelMsg({
      graphName: '',
      nodes: nodes.map((n) => ({
        op: n.opType,
        inputs: n.inputs,
        outputs: n.outputs,
        name: n.name ?? n.outputs[0],
        attrs: Object.fromEntries((n.attrs ?? []).map((a): [string, AttrValue] => [a.name, a.ints ?? a.i ?? 0])),
      })),
      initializers: inits.map((t) => ({ name: t.name, dims: t.dims, float: Float32Array.from(t.data), asFloatData: t.asFloatData })),
      inputs: [],
      outputs: [],
      producer: 'test' + 'x'.repeat(pad),
      opset: 14,
      irVersion: 7,
    }),
  );
}
