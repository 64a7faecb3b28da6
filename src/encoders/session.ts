import type { InferenceSession } from 'onnxruntime-web/webgpu';
import type { Backend } from './backend';
import { configureOrt } from './ort-env';

/** What an ONNX file must expose for its role; checked so a wrong file is named, not a crash later. */
export interface SessionContract {
  input: string;
  output: string;
}

/** Creates an ORT session for a model file's bytes on the chosen backend; errors name the file. */
export async function createSession(
  bytes: Uint8Array,
  file: string,
  backend: Backend,
  contract: SessionContract,
): Promise<InferenceSession> {
  const ort = configureOrt(backend.ep === 'webgpu' ? backend.gpu.adapter : undefined);
  // ORT 1.30 accepts our own device in the WebGPU EP options; its typings do not list the field yet.
  const executionProviders = (
    backend.ep === 'webgpu' ? [{ name: 'webgpu', device: backend.gpu.device }] : ['wasm']
  ) as InferenceSession.SessionOptions['executionProviders'];
  let session: InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, {
      executionProviders,
      graphOptimizationLevel: 'all',
      // Node-placement notes (shape ops kept on the CPU) are expected, not worth a console warning.
      logSeverityLevel: 3,
    });
  } catch (e) {
    throw new Error(`${file} could not be opened by onnxruntime-web (${backend.ep}): ${(e as Error).message ?? e}`);
  }
  if (!session.inputNames.includes(contract.input)) {
    await session.release();
    throw new Error(`${file} has no input "${contract.input}" (inputs: ${session.inputNames.join(', ')})`);
  }
  if (!session.outputNames.includes(contract.output)) {
    await session.release();
    throw new Error(`${file} has no output "${contract.output}" (outputs: ${session.outputNames.join(', ')})`);
  }
  return session;
}
