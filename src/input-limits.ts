/**
 * The limits every reader checks before it allocates, and the one error it throws when a file goes past them.
 *
 * Every file the app opens comes from someone else (project zips, prompt files, model folders, images), and a
 * browser answers a file that makes it allocate gigabytes by killing the tab. So each reader compares what a file
 * declares (a zip entry's size, a tensor's dims, a vocabulary's length) with these limits first, and refuses with
 * a message that says what was too large and what the limit is. The limits sit well above every real file (the
 * figures in the comments) and well below what takes a page down; docs/hostile-files.md lists them.
 */

/** A file, or a part of one, that declares more than the app reads: `what` is past `limit`. */
export class TooLargeError extends Error {
  constructor(
    /** What was too large, e.g. `images/00001-cat.png in bomb.zip`. */
    readonly what: string,
    /** How large it is (or declares to be), in words, e.g. `1 GiB`. */
    readonly actual: string,
    /** The limit, in words. */
    readonly limit: string,
    advice = '',
  ) {
    super(`${what} is ${actual}, over the limit of ${limit}${advice ? `; ${advice}` : ''}`);
    this.name = 'TooLargeError';
  }
}

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/** 1536 → "1.5 KiB": sizes in messages, in the units the limits are set in. */
export function bytesText(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (n < KiB) return `${n} bytes`;
  const [unit, div] = n >= GiB ? ['GiB', GiB] : n >= MiB ? ['MiB', MiB] : ['KiB', KiB];
  const v = n / div;
  return `${v >= 100 ? Math.round(v) : Math.round(v * 10) / 10} ${unit}`;
}

/** 1234567 → "1,234,567". */
export const countText = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : String(n));

/** Refuses `actual` bytes over `limit`. */
export function checkBytes(what: string, actual: number, limit: number, advice = ''): void {
  if (actual <= limit) return;
  // Just over the limit reads the same rounded: then both in bytes.
  const [a, l] = bytesText(actual) === bytesText(limit) ? [`${countText(actual)} bytes`, `${countText(limit)} bytes`] : [bytesText(actual), bytesText(limit)];
  throw new TooLargeError(what, a, l, advice);
}

/** Refuses a count over `limit`; `unit` names what is counted ("entries", "merges"). */
export function checkCount(what: string, actual: number, limit: number, unit: string, advice = ''): void {
  if (actual > limit) throw new TooLargeError(what, `${countText(actual)} ${unit}`, `${countText(limit)} ${unit}`, advice);
}

export const LIMITS = {
  // ---- project files (src/session/project-file.ts) ----
  /** Entries in a project zip: a 16-shot ImageNet project has ~17,000 (16,000 images, project.json, prompts). */
  projectEntries: 100_000,
  /** project.json uncompressed: the demo's is under 1 MB; a project with long runs, a few MB. */
  projectJsonBytes: 64 * MiB,
  /** One image in a project: the app decodes at most 50 megapixels; real photos are a few MB. */
  projectImageBytes: 100 * MiB,
  /** One run's prompt file inside a project: the same as a prompt file alone (below). */
  projectPromptBytes: 128 * MiB,
  /** Everything a project inflates to: ImageNet 16-shot at full resolution is about 1.8 GB. */
  projectTotalBytes: 2 * GiB,
  /**
   * Inflated : stored, for entries over 1 MiB. Photos are already compressed (~1:1); JSON of floats deflates ~3:1;
   * deflate's own maximum is ~1032:1, which only a made-up file (all zeros) reaches.
   */
  projectRatio: 100,
  projectRatioFloorBytes: 1 * MiB,
  /** All entries together inflate to at most ratio × the file's size plus this (small projects' JSON compresses well). */
  projectTotalFloorBytes: 64 * MiB,

  // ---- prompt files (src/coop/prompt-file.ts) ----
  /**
   * A prompt file's text: a unified prompt is ~0.1-1.3 MB; class-specific context for 1000 classes at M = 16 and
   * D = 512 is ~90 MB as text, so the largest real ones fit.
   */
  promptFileBytes: 128 * MiB,
  /** Context vectors M: CLIP reads 77 tokens, two of them SOS/EOS and at least one the class name. */
  promptNCtx: 74,
  /** Classes of a prompt file (CoOp's largest benchmark, ImageNet, has 1000); also projects' classes. */
  classes: 10_000,
  /**
   * Extra tensors of a version-2 prompt file (a successor's parameters): CoCoOp's Meta-Net has 4, TCP's MLP a few,
   * DePT a few, deep prompts one per block (a 32-block tower: 32).
   */
  promptExtras: 256,
  /** Dims of one extra tensor: the largest (deep prompts' [blocks, M, D]) has 3. */
  promptExtraRank: 8,
  /** Keys of a version-2 file's method settings: each method has a handful. */
  promptMethodSettings: 64,

  // ---- model folders (src/models/, src/tokenizer/) ----
  /** config.json, preprocessor_config.json, manifest.json: a few KB each as published. */
  modelJsonBytes: 1 * MiB,
  /** tokenizer.json: CLIP's is 2.2 MB (49,408 tokens, 48,894 merges). */
  tokenizerJsonBytes: 32 * MiB,
  /** Vocabulary entries and token ids: CLIP's 49,408, with room for a vocabulary twice that. */
  vocab: 100_000,
  /** BPE merges: CLIP's 48,894. */
  merges: 100_000,

  // ---- the text tower (src/engine/model/) ----
  /** Width D and projection E: CLIP ViT-bigG's text tower is 1280 wide. */
  textWidth: 8192,
  /** Layers L: bigG's text tower has 32. */
  textLayers: 256,
  /** Attention heads H. */
  textHeads: 256,
  /** MLP width F: 4·D in CLIP. */
  textMlp: 32_768,
  /** Positions P: CLIP's 77. */
  textPositions: 4096,
  /** fp32 bytes of all text weights the config declares: bigG's text tower is ~2.8 GB. */
  textWeightBytes: 4 * GiB,
  /** What an ONNX file may hold beyond its weights (graph, names, constants). */
  onnxOverheadBytes: 64 * MiB,
  /** Dims of one ONNX tensor: CLIP's are at most 4-dimensional. */
  onnxTensorRank: 16,

  // ---- the URL hash (src/session/url-hash.ts) ----
  /** Characters of a hash whose settings are read: a full settings hash is under 200. */
  hashChars: 8 * KiB,
  /** init words from a link: CLIP reads 77 tokens at most. */
  hashWordsChars: 1000,
} as const;
