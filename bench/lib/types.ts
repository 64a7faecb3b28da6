/** The benchmark's options and its JSON result; shared by the CLI, the Node runner and the bench page. */
import type { ClassTokenPosition } from '../../src/engine/prompt';
import type { ProfileResult } from './profile';

export type ShapeName = 'toy' | 'small' | 'vit-b32';
export const SHAPE_NAMES: readonly ShapeName[] = ['toy', 'small', 'vit-b32'];

export interface BenchOptions {
  /** Shapes whose text step is measured. */
  shapes: ShapeName[];
  /**
   * The model folder (repository-relative or absolute) whose real text weights the `toy` rows use and whose
   * image tower is timed, read through the app's loader: default the bundled public/models/toy-clip; a folder
   * as published (e.g. the ViT-B/32 stand-in) works too.
   */
  model: string;
  /** The image tower's dtype (fp32, fp16, quantized); default the first the folder has. */
  visionDtype?: 'fp32' | 'fp16' | 'quantized';
  /** Set by the browser host: the folder's URL on the bench server. */
  modelUrl?: string;
  /** Class counts of the unified/end rows. */
  ks: number[];
  /** Class count of the CSC and middle-position rows (0: leave them out). */
  extraK: number;
  m: number;
  /** Timed repetitions per path (after one untimed warm-up step). */
  reps: number;
  /** Class counts planned (never run) for vit-b32. */
  planKs: number[];
  /** Rows whose estimated time would pass this many seconds are skipped and reported as such. */
  budgetS: number;
  image: boolean;
  matmul: boolean;
  textStep: boolean;
  /** Naive steps only up to this K (`--naive-max-k`): all 77·K positions in one chunk grow past any GPU's memory. */
  naiveMaxK?: number;
  /** `--profile`: one fast step per shape timed kernel by kernel, at each of `profileKs`. */
  profile?: boolean;
  profileKs?: number[];
}

export interface AdapterInfo {
  runner: 'browser' | 'node';
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** Chromium's user agent, or Node's version and Dawn's backend. */
  host: string;
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
  features: string[];
}

export interface TextStepRow {
  shape: ShapeName;
  k: number;
  m: number;
  csc: boolean;
  position: ClassTokenPosition;
  naive_ms: number | null;
  fast_ms: number | null;
  speedup: number | null;
  naive_positions: number;
  fast_positions: number;
  /** Planned GFLOP of one fast step (forward + backward to the context, recomputation included); `naive_gflop_per_step` for the naive path. */
  gflop_per_step: number;
  naive_gflop_per_step: number;
  fast_gflops: number | null;
  naive_gflops: number | null;
  /** fast_gflops over the best matmul GFLOP/s measured for this shape. */
  fast_fraction_of_matmul: number | null;
  /** Bytes the engine's allocator really held at its peak, next to what the planner predicted. */
  fast_peak_bytes_measured: number | null;
  fast_peak_bytes_planned: number | null;
  naive_peak_bytes_measured: number | null;
  naive_peak_bytes_planned: number | null;
  /** Largest |naive − fast| over loss and context gradient (both paths must agree). */
  max_abs_diff: number | null;
  /** Classes per chunk: naive holds all K (as the original), fast uses the engine's default. */
  naive_chunk: number;
  fast_chunk: number;
  /** Largest |d loss / d ctx| of the naive path: the scale max_abs_diff is small against. */
  grad_max_abs?: number;
  reps: number;
  note?: string;
}

export interface PlanRow {
  shape: ShapeName;
  k: number;
  naive_positions: number;
  fast_positions: number;
  naive_gflop_per_step: number;
  fast_gflop_per_step: number;
  /** Planned peak bytes of the fast path's GPU buffers (what the engine would allocate). */
  peak_bytes: number;
  naive_peak_bytes: number;
  /** Classes per chunk the engine picks by default for each path (from its activation budget); all chunks but the last are recomputed in backward. */
  chunk: number;
  naive_chunk: number;
  /** The same with all K classes in one chunk (no recomputation). */
  fast_peak_bytes_one_chunk: number;
  fast_gflop_one_chunk: number;
  /** A lower bound for the original, which keeps every activation of all 77·K positions. */
  naive_peak_bytes_one_chunk: number;
}

export interface MatmulRow {
  shape: ShapeName;
  label: string;
  m: number;
  n: number;
  k: number;
  transB: boolean;
  /** 'tiled': the scalar kernel; 'vec4': the register-blocked one (what the engine uses where it fits). */
  kernel: 'tiled' | 'vec4' | 'auto';
  ms: number;
  gflops: number;
}

export interface ImageEncodeResult {
  /** Which model, tower file and dtype were timed. */
  model?: string;
  webgpu_ips_b1: number | null;
  webgpu_ips_b32: number | null;
  wasm_ips_b1: number | null;
  wasm_ips_b32: number | null;
  /** Only in --node mode: onnxruntime-node's CPU EP, which is neither WebGPU nor WASM. */
  node_cpu_ips_b1?: number | null;
  node_cpu_ips_b32?: number | null;
  note?: string;
}

export interface BenchResult {
  adapter: AdapterInfo;
  options: BenchOptions;
  started: string;
  seconds: number;
  text_step: TextStepRow[];
  plan: PlanRow[];
  /** Best GFLOP/s of the engine's matmul over the step's main shapes. */
  matmul_gflops: number | null;
  matmul: MatmulRow[];
  image_encode: ImageEncodeResult | null;
  /** `--profile` rows (bench/lib/profile.ts). */
  profile?: ProfileResult[];
  errors: string[];
}
