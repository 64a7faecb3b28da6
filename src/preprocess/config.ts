export const CLIP_MEAN: readonly number[] = [0.48145466, 0.4578275, 0.40821073];
export const CLIP_STD: readonly number[] = [0.26862954, 0.26130258, 0.27577711];

/** What CLIP's image transform needs, read from a Hugging Face preprocessor_config.json. */
export interface PreprocessConfig {
  /** The shorter side is resized to this. */
  shortestEdge: number;
  cropHeight: number;
  cropWidth: number;
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}

function positiveInt(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new Error(`preprocessor_config.json: ${what} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

function triple(value: unknown, fallback: readonly number[], what: string): [number, number, number] {
  const v = value ?? fallback;
  if (!Array.isArray(v) || v.length !== 3 || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw new Error(`preprocessor_config.json: ${what} must be three numbers, got ${JSON.stringify(value)}`);
  }
  return [v[0], v[1], v[2]];
}

/** Accepts `size` as a number or {shortest_edge}, and `crop_size` as a number or {height, width}. */
export function loadPreprocessorConfig(json: unknown): PreprocessConfig {
  const cfg = (json ?? {}) as Record<string, unknown>;
  const size = cfg.size;
  const shortestEdge = positiveInt(
    typeof size === 'object' && size !== null ? (size as Record<string, unknown>).shortest_edge : size,
    'size (or size.shortest_edge)',
  );
  const crop = cfg.crop_size ?? shortestEdge;
  const [cropHeight, cropWidth] =
    typeof crop === 'object' && crop !== null
      ? [
          positiveInt((crop as Record<string, unknown>).height, 'crop_size.height'),
          positiveInt((crop as Record<string, unknown>).width, 'crop_size.width'),
        ]
      : [positiveInt(crop, 'crop_size'), positiveInt(crop, 'crop_size')];
  const std = triple(cfg.image_std, CLIP_STD, 'image_std');
  if (std.some((s) => s === 0)) throw new Error('preprocessor_config.json: image_std must not contain 0');
  return { shortestEdge, cropHeight, cropWidth, mean: triple(cfg.image_mean, CLIP_MEAN, 'image_mean'), std };
}
