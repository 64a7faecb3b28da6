/**
 * Image features for the command line: files decoded with sharp, the app's preprocessing (clean view) or CoOp's
 * augmented views (src/coop/augment.ts), CLIP's image tower through onnxruntime-node, L2-normalized, and cached on
 * disk under (vision model fingerprint, image content hash, view), so a sweep of shots × seeds encodes each image
 * and view once, and a second command encodes nothing.
 *
 * The image tower is opened lazily: onnxruntime-node (and sharp, src/cli/decode.ts) are imported, and the session
 * created, only when a requested view is missing from the cache. A fully cached command therefore never loads the
 * vision model (350 MB for ViT-B/16) nor the native modules, and runs where they are not installed at all (the
 * bundled GPU check on a bare machine, bench/gpu-device.sh); there a missing view stops with a clear message.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { imageKeyFromHash, imageViewSeed, makeViews } from '../coop/augment';
import { normalizeRows } from '../coop/zero-shot';
import { preprocessPixels } from '../preprocess';
import { prepareCacheDir } from './cache-dir';
import { decodeFile, loadSharp } from './decode';
import type { CliModel } from './model-dir';
import { Progress } from './progress';

export type EpChoice = 'cpu' | 'cuda';

export function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'coop-playground', 'features');
}

/** Which view of an image: the clean (resize + center crop) one, or augmented view v of a seed. */
export type ViewKey = { kind: 'clean' } | { kind: 'aug'; seed: number; index: number };

const viewName = (v: ViewKey) => (v.kind === 'clean' ? 'clean' : `aug-s${v.seed}-v${v.index}`);

interface Job {
  file: string;
  views: ViewKey[];
}

export class ImageFeatureExtractor {
  private hashes = new Map<string, string>();
  /** Files that could not be read or decoded: path → message. Skipped, never fatal. */
  readonly failed = new Map<string, string>();
  private opened: Promise<{ ort: typeof Ort; session: Ort.InferenceSession }> | null = null;
  /** The execution provider in use; null while every feature has come from the cache (no session opened). */
  private epUsed: string | null = null;
  private constructor(
    private readonly model: CliModel,
    private readonly cacheDir: string,
    private readonly opts: { ep: EpChoice; epStrict: boolean; log: (s: string) => void },
    readonly batch: number,
  ) {}

  static async create(model: CliModel, opts: { ep: EpChoice; epStrict: boolean; cacheDir: string; batch?: number; log: (s: string) => void }): Promise<ImageFeatureExtractor> {
    const x = new ImageFeatureExtractor(model, opts.cacheDir, opts, opts.batch ?? 64);
    // An explicit --ep cuda is checked up front, so a run that asked for the GPU learns at once whether it has it.
    if (opts.ep === 'cuda') await x.open('--ep cuda');
    return x;
  }

  /** The execution provider that encoded images, or 'none (all cached)' when none was needed. */
  get ep(): string {
    return this.epUsed ?? 'none (all cached)';
  }

  /** Where this command's image features came from, for the results' footer. */
  get source(): string {
    return this.epUsed ? `onnxruntime-node ${this.epUsed} (missing views encoded, the rest from the cache)` : 'all from the cache';
  }

  /** Imports onnxruntime-node and opens the image tower, once; `why` says what needed it, for the message. */
  private open(why: string): Promise<{ ort: typeof Ort; session: Ort.InferenceSession }> {
    this.opened ??= this.openSession(why);
    return this.opened;
  }

  private async openSession(why: string): Promise<{ ort: typeof Ort; session: Ort.InferenceSession }> {
    const { model, opts } = this;
    let ort: typeof Ort;
    try {
      // A variable specifier: bundlers leave the native module alone (bench/gpu-pack.sh marks it external anyway).
      const spec = 'onnxruntime-node';
      const m = (await import(/* @vite-ignore */ spec)) as typeof Ort & { default?: typeof Ort };
      ort = m.InferenceSession ? m : (m.default as typeof Ort);
    } catch (e) {
      throw new Error(
        `the feature cache ${this.cacheDir} is incomplete for ${model.visionPath} (${why}), and onnxruntime-node, which would encode ` +
          `the missing images, could not be loaded (${(e as Error).message.split('\n')[0]}). Install onnxruntime-node, or fill the cache ` +
          `on a machine that has it by running the same command there with --cache pointing at this folder.`,
      );
    }
    let ep: string = opts.ep;
    if (opts.ep === 'cuda') {
      const cuda = ort.listSupportedBackends().find((b) => b.name === 'cuda');
      let whyNot: string | null = null;
      if (!cuda) whyNot = 'this onnxruntime-node build has no CUDA execution provider';
      else {
        try {
          // onnxruntime logs a failed provider load itself, in red, before our message says what it means.
          ort.env.logLevel = 'fatal';
          const s = await ort.InferenceSession.create(model.visionModel, { executionProviders: ['cuda'], logSeverityLevel: 4 });
          await s.release();
        } catch (e) {
          whyNot = `the CUDA execution provider could not start (${(e as Error).message.split('\n')[0]}); it needs an NVIDIA GPU, CUDA 12 and cuDNN 9, and onnxruntime-node's CUDA binaries (install it without ONNXRUNTIME_NODE_INSTALL=skip)`;
        }
      }
      if (whyNot) {
        if (opts.epStrict) throw new Error(`--ep cuda: ${whyNot}. Run with --ep cpu, or drop --ep-strict to fall back to the CPU.`);
        opts.log(`--ep cuda: ${whyNot}; falling back to the CPU execution provider (add --ep-strict to stop instead).`);
        ep = 'cpu';
      }
    }
    let session: Ort.InferenceSession;
    try {
      // Every core: onnxruntime-node's own default is the physical cores, which a container may misreport.
      session = await ort.InferenceSession.create(model.visionModel, { executionProviders: [ep], graphOptimizationLevel: 'all', logSeverityLevel: 3, intraOpNumThreads: os.availableParallelism() });
    } catch (e) {
      throw new Error(`${model.visionPath} could not be opened by onnxruntime-node (${ep}): ${(e as Error).message}`);
    }
    if (!session.inputNames.includes('pixel_values') || !session.outputNames.includes('image_embeds')) {
      throw new Error(`${model.visionPath} must take "pixel_values" and give "image_embeds" (it has ${session.inputNames.join(', ')} → ${session.outputNames.join(', ')})`);
    }
    this.epUsed = ep;
    opts.log(`image features: onnxruntime-node, ${ep} execution provider${ep === 'cpu' ? `, ${os.availableParallelism()} threads` : ''}`);
    return { ort, session };
  }

  get dim(): number {
    return this.model.manifest.embed_dim;
  }

  private hashOf(file: string): string {
    let h = this.hashes.get(file);
    if (!h) {
      h = createHash('sha256').update(readFileSync(file)).digest('hex');
      this.hashes.set(file, h);
    }
    return h;
  }

  private cachePath(hash: string, view: ViewKey): string {
    return path.join(this.cacheDir, this.model.visionFingerprint.slice(0, 16), hash.slice(0, 2), `${hash}.${viewName(view)}.f32`);
  }

  private readCached(p: string): Float32Array | null {
    if (!existsSync(p)) return null;
    const b = readFileSync(p);
    if (b.byteLength !== this.dim * 4) return null;
    return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  }

  private cachePrepared = false;

  private writeCached(p: string, f: Float32Array): void {
    if (!this.cachePrepared) {
      this.cachePrepared = true;
      const note = prepareCacheDir(this.cacheDir);
      if (note) this.opts.log(note);
    }
    mkdirSync(path.dirname(p), { recursive: true });
    // Written under a temporary name and renamed, so a killed run never leaves a truncated feature behind.
    const tmp = `${p}.${process.pid}.tmp`;
    writeFileSync(tmp, Buffer.from(f.buffer, f.byteOffset, f.byteLength));
    renameSync(tmp, p);
  }

  /**
   * Features of the given views of each file: result[i][j] is file i's view j (null where the file failed).
   * `label` names the job in the progress line.
   */
  async features(jobs: Job[], label: string, progress: Progress): Promise<(Float32Array | null)[][]> {
    const out: (Float32Array | null)[][] = jobs.map((j) => j.views.map(() => null));
    const todo: Array<{ i: number; file: string; hash: string; missing: number[] }> = [];
    // Every file is read once for its content hash before anything is encoded: on a big split (ImageNet's 50,000
    // test images) that pass alone takes minutes, so it shows its own rate and ETA.
    const lookup = jobs.length >= 2000 ? progress.task(`looking up ${label} in the feature cache`, jobs.length, 'files') : null;
    for (let i = 0; i < jobs.length; i++) {
      lookup?.advance();
      const { file, views } = jobs[i];
      if (this.failed.has(file)) continue;
      let hash: string;
      try {
        hash = this.hashOf(file);
      } catch (e) {
        this.failed.set(file, `${file} could not be read (${(e as Error).message})`);
        continue;
      }
      const missing: number[] = [];
      views.forEach((v, j) => {
        const f = this.readCached(this.cachePath(hash, v));
        if (f) out[i][j] = f;
        else missing.push(j);
      });
      if (missing.length) todo.push({ i, file, hash, missing });
    }
    lookup?.done(`${todo.length} file(s) with views to encode`);
    const total = todo.reduce((s, t) => s + t.missing.length, 0);
    if (total === 0) return out;
    const { ort, session } = await this.open(`${total} view(s) of ${label} are not in it`);
    await loadSharp();
    const task = progress.task(`encoding ${label}`, total, 'img');
    const px = 3 * this.model.preprocess.cropHeight * this.model.preprocess.cropWidth;
    let pending: Array<{ i: number; j: number; hash: string; pixels: Float32Array }> = [];
    const flush = async () => {
      if (!pending.length) return;
      const n = pending.length;
      const buf = new Float32Array(n * px);
      pending.forEach((p, r) => buf.set(p.pixels, r * px));
      const { cropHeight: h, cropWidth: w } = this.model.preprocess;
      const res = await session.run({ pixel_values: new ort.Tensor('float32', buf, [n, 3, h, w]) });
      const emb = res.image_embeds;
      if (!emb || emb.dims.length !== 2 || emb.dims[0] !== n || emb.dims[1] !== this.dim) {
        throw new Error(`vision_model.onnx gave image_embeds of shape [${emb?.dims.join(', ')}], expected [${n}, ${this.dim}] (manifest.json embed_dim)`);
      }
      const feats = normalizeRows(emb.data as Float32Array, this.dim);
      pending.forEach((p, r) => {
        const f = feats.slice(r * this.dim, (r + 1) * this.dim);
        out[p.i][p.j] = f;
        this.writeCached(this.cachePath(p.hash, jobs[p.i].views[p.j]), f);
      });
      task.advance(n);
      pending = [];
    };
    for (const t of todo) {
      let img;
      try {
        img = await decodeFile(new Uint8Array(readFileSync(t.file)), t.file);
      } catch (e) {
        this.failed.set(t.file, (e as Error).message);
        task.advance(t.missing.length);
        continue;
      }
      const views = jobs[t.i].views;
      const augSeeds = new Map<number, number[]>();
      for (const j of t.missing) {
        const v = views[j];
        if (v.kind === 'clean') {
          pending.push({ i: t.i, j, hash: t.hash, pixels: preprocessPixels(img.pixels, img.width, img.height, 4, this.model.preprocess) });
        } else augSeeds.set(v.seed, [...(augSeeds.get(v.seed) ?? []), j]);
      }
      for (const [seed, js] of augSeeds) {
        const maxIndex = Math.max(...js.map((j) => (views[j] as { index: number }).index));
        // makeViews' view v depends only on (seed, content, v), so making the first maxIndex+1 reproduces each one.
        const made = makeViews(img.pixels, img.width, img.height, maxIndex + 1, imageViewSeed(seed, imageKeyFromHash(t.hash)), this.model.preprocess);
        for (const j of js) pending.push({ i: t.i, j, hash: t.hash, pixels: made[(views[j] as { index: number }).index] });
      }
      if (pending.length >= this.batch) await flush();
    }
    await flush();
    task.done();
    return out;
  }

  async release(): Promise<void> {
    if (!this.opened) return;
    const opened = this.opened;
    this.opened = null;
    await (await opened.catch(() => null))?.session.release();
  }
}
