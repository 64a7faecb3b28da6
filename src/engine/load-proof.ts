/**
 * The load-time proof that the weights were read right: the engine's own forward on a few
 * real prompts must reproduce what the model file itself computes (ORT's text_embeds).
 * Reading weights by graph structure can go wrong silently (a transposed matrix, a swapped
 * q/k, another exporter's layout), and a wrong tower still trains, just badly; so a model
 * that fails this is refused instead.
 *
 * The reference embeddings come from the caller (the app runs ORT on the same file), so the
 * engine stays free of any ORT dependency.
 */

export interface ProofPrompt {
  /** Shown in the error, e.g. "a photo of a star." */
  text: string;
  /** The 77 token ids of the prompt. */
  ids: ArrayLike<number>;
  /** ORT's text_embeds for these ids [E]. */
  reference: ArrayLike<number>;
}

export interface ProofResult {
  cosines: number[];
  minCosine: number;
}

export const PROOF_MIN_COSINE = 0.99999;

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return NaN;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}

/**
 * `encode` maps [B×77] ids to text_embeds [B×E] (the engine's encodeTokens or the CPU twin).
 * Throws an Error naming the file and the worst prompt when any cosine is below `minCosine`.
 */
export async function proveTextWeights(
  encode: (ids: Int32Array, batch: number) => Promise<ArrayLike<number>> | ArrayLike<number>,
  prompts: ProofPrompt[],
  minCosine = PROOF_MIN_COSINE,
  file = 'text_model.onnx',
): Promise<ProofResult> {
  const refuse = (what: string) =>
    new Error(
      `${file} is not read right by this engine: ${what}; the file is not a CLIP text tower this engine understands: ` +
        `use the folder's other text file (onnx/text_model.onnx or onnx/text_model_fp16.onnx) or another model`,
    );
  if (prompts.length === 0) throw new Error('load proof: no prompts to check the text weights with');
  const T = prompts[0].ids.length;
  const E = prompts[0].reference.length;
  const ids = new Int32Array(prompts.length * T);
  prompts.forEach((p, i) => {
    if (p.ids.length !== T) throw new Error(`load proof: prompt '${p.text}' has ${p.ids.length} ids, expected ${T}`);
    ids.set(Array.from(p.ids), i * T);
  });
  const out = await encode(ids, prompts.length);
  if (out.length !== prompts.length * E) {
    throw refuse(`the text weights read from it give ${out.length / prompts.length} values per prompt, its own outputs (ORT) ${E}`);
  }
  const cosines = prompts.map((p, i) => {
    const row = Array.prototype.slice.call(out, i * E, (i + 1) * E) as number[];
    const c = cosine(row, p.reference);
    return Number.isFinite(c) ? c : -1;
  });
  let worst = 0;
  cosines.forEach((c, i) => {
    if (c < cosines[worst]) worst = i;
  });
  const minC = cosines[worst];
  if (!(minC >= minCosine)) {
    throw refuse(
      `the text weights read from it do not reproduce its own outputs (cosine ${minC.toFixed(minC > 0.99 ? 6 : 2)} against ORT, ` +
        `at least ${minCosine} needed, for prompt '${prompts[worst].text}')`,
    );
  }
  return { cosines, minCosine: minC };
}
