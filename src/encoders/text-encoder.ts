import type { InferenceSession, Tensor } from 'onnxruntime-web/webgpu';
import type { Backend } from './backend';
import { rowsOf } from './check-output';
import { configureOrt } from './ort-env';
import { enqueueRun } from './run-queue';
import { createSession } from './session';

export interface TextEncoderSpec {
  bytes: Uint8Array;
  /** Display path of text_model.onnx, for messages. */
  file: string;
  contextLength: number;
  embedDim: number;
}

export interface TextEncoding {
  /** rows × embedDim, not normalised. */
  embeds: Float32Array;
  /** rows × contextLength × width, when asked for (the text engine's load-time proof compares it). */
  lastHiddenState?: Float32Array;
}

// Bounds the activations of one run; CLIP's text tower holds 77 × width floats per row and layer.
const MAX_ROWS_PER_RUN = 64;

/** CLIP's text tower on ORT: token id rows (SOS … EOS, zero padded) → text_embeds. */
export class ClipTextEncoder {
  private constructor(
    private readonly session: InferenceSession,
    readonly spec: Omit<TextEncoderSpec, 'bytes'>,
  ) {}

  static async create(spec: TextEncoderSpec, backend: Backend): Promise<ClipTextEncoder> {
    const session = await createSession(spec.bytes, spec.file, backend, { input: 'input_ids', output: 'text_embeds' });
    const { bytes: _bytes, ...rest } = spec;
    return new ClipTextEncoder(session, rest);
  }

  get hasLastHiddenState(): boolean {
    return this.session.outputNames.includes('last_hidden_state');
  }

  /** `ids` holds `rows` rows of contextLength token ids each, as the tokenizer's tokenize() makes them. */
  async encodeIds(ids: Int32Array, rows: number): Promise<Float32Array> {
    return (await this.encode(ids, rows, false)).embeds;
  }

  async encodeIdsWithHidden(ids: Int32Array, rows: number): Promise<Required<TextEncoding>> {
    return (await this.encode(ids, rows, true)) as Required<TextEncoding>;
  }

  private async encode(ids: Int32Array, rows: number, withHidden: boolean): Promise<TextEncoding> {
    const { contextLength: n, embedDim } = this.spec;
    if (ids.length !== rows * n) throw new Error(`Token ids hold ${ids.length} values, expected ${rows} × ${n}`);
    if (withHidden && !this.hasLastHiddenState) throw new Error(`${this.spec.file} has no last_hidden_state output`);
    const embeds = new Float32Array(rows * embedDim);
    const hidden: Float32Array[] = [];
    for (let start = 0; start < rows; start += MAX_ROWS_PER_RUN) {
      const count = Math.min(MAX_ROWS_PER_RUN, rows - start);
      const chunk = await this.run(ids.subarray(start * n, (start + count) * n), count, withHidden);
      embeds.set(chunk.embeds, start * embedDim);
      if (chunk.lastHiddenState) hidden.push(chunk.lastHiddenState);
    }
    return withHidden ? { embeds, lastHiddenState: concat(hidden) } : { embeds };
  }

  private run(ids: Int32Array, rows: number, withHidden: boolean): Promise<TextEncoding> {
    const ort = configureOrt();
    const { contextLength: n, embedDim, file } = this.spec;
    // The exported graph takes int64 ids.
    const input = new ort.Tensor('int64', BigInt64Array.from(ids, (v) => BigInt(v)), [rows, n]);
    const fetches = withHidden ? ['text_embeds', 'last_hidden_state'] : ['text_embeds'];
    return enqueueRun(async () => {
      const out = await this.session.run({ input_ids: input }, fetches);
      const embeds = rowsOf(out.text_embeds, 'text_embeds', rows, embedDim, file).slice();
      const hidden = out.last_hidden_state as Tensor | undefined;
      const lastHiddenState = hidden ? (hidden.data as Float32Array).slice() : undefined;
      for (const t of Object.values(out)) t.dispose();
      return { embeds, lastHiddenState };
    });
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

function concat(parts: Float32Array[]): Float32Array {
  if (parts.length === 1) return parts[0];
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
