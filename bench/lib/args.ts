import { CHROMIUM_PATH } from '../../e2e/lib/chromium-flags.mjs';
import { SHAPE_NAMES, type BenchOptions, type ShapeName } from './types';

export interface CliArgs {
  out?: string;
  node: boolean;
  options: BenchOptions;
  /** Extra Chromium flags (browser mode). */
  browserArgs: string[];
  chromium: string;
  /** Options for Dawn's `create([...])` (node mode), e.g. backend=vulkan. */
  dawn: string[];
}

export const USAGE = `usage: npm run bench -- [--out FILE] [--shape toy|small|vit-b32]... [--node] [--reps N]
       npm run bench -- --cpu [--out DIR]   the CPU engines (reference vs WASM SIMD, 1 and 2 threads; matmul shapes vs onnxruntime-web)
  --out FILE         write the JSON result here (default: a file in the OS temp dir, printed)
  --shape S          shape(s) whose text step is measured; repeat or comma-separate (default: toy,small)
  --model DIR        model folder for the toy rows and image encoding, read by the app's loader
                     (default public/models/toy-clip; a folder as published works, no manifest needed)
  --vision-dtype D   image tower file: fp32, fp16 or quantized (default: the first the folder has)
  --node             run in Node through Dawn (webgpu package) instead of headless Chromium
  --reps N           timed steps per path, alternating naive/fast (default 3)
  --k LIST           class counts of the unified, class-at-end rows (default 10,100)
  --extra-k N        class count of the CSC and middle-position rows (default 10; 0 leaves them out)
  --m N              context length M (default 16)
  --plan-k LIST      class counts planned (not run) for vit-b32 (default 10,100,1000)
  --budget S         seconds for the whole run; text-step paths that would not fit are skipped (default 540)
  --no-image --no-matmul --no-text   leave a section out
  --naive-max-k N    run the naive path only for K ≤ N (default: every K the budget allows)
  --profile          also time one fast step of each shape kernel by kernel (op groups, share, GFLOP/s)
  --profile-k LIST   class counts of the profiled steps (default 10)
  --chromium PATH    browser binary (default $CHROMIUM or /usr/bin/chromium)
  --browser-arg F    extra Chromium flag (repeatable), e.g. --browser-arg=--use-vulkan
  --dawn OPT         option for Dawn's create() in --node mode (repeatable), e.g. --dawn backend=vulkan`;

function list(v: string): number[] {
  const out = v.split(',').map((s) => Number(s.trim()));
  if (out.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`not a list of positive integers: ${v}`);
  return out;
}

function int(v: string, what: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${what} must be a positive integer (got ${v})`);
  return n;
}

export function parseArgs(argv: string[]): CliArgs {
  const options: BenchOptions = {
    shapes: [],
    model: 'public/models/toy-clip',
    ks: [10, 100],
    extraK: 10,
    m: 16,
    reps: 3,
    planKs: [10, 100, 1000],
    budgetS: 540,
    image: true,
    matmul: true,
    textStep: true,
  };
  const args: CliArgs = { node: false, options, browserArgs: [], chromium: CHROMIUM_PATH, dawn: [] };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    let value: string | undefined;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) {
      value = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    const next = () => {
      if (value !== undefined) return value;
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '--out': args.out = next(); break;
      case '--node': args.node = true; break;
      case '--shape':
        for (const s of next().split(',')) {
          if (!SHAPE_NAMES.includes(s as ShapeName)) throw new Error(`unknown shape ${s} (one of ${SHAPE_NAMES.join(', ')})`);
          options.shapes.push(s as ShapeName);
        }
        break;
      case '--model': options.model = next(); break;
      case '--vision-dtype': {
        const d = next();
        if (d !== 'fp32' && d !== 'fp16' && d !== 'quantized') throw new Error(`--vision-dtype must be fp32, fp16 or quantized (got ${d})`);
        options.visionDtype = d;
        break;
      }
      case '--reps': options.reps = int(next(), '--reps'); break;
      case '--k': options.ks = list(next()); break;
      case '--extra-k': {
        const v = next();
        options.extraK = v === '0' ? 0 : int(v, '--extra-k');
        break;
      }
      case '--m': options.m = int(next(), '--m'); break;
      case '--plan-k': options.planKs = list(next()); break;
      case '--budget': options.budgetS = int(next(), '--budget'); break;
      case '--no-image': options.image = false; break;
      case '--no-matmul': options.matmul = false; break;
      case '--no-text': options.textStep = false; break;
      case '--profile': options.profile = true; break;
      case '--naive-max-k': options.naiveMaxK = int(next(), '--naive-max-k'); break;
      case '--profile-k': options.profile = true; options.profileKs = list(next()); break;
      case '--chromium': args.chromium = next(); break;
      case '--browser-arg': args.browserArgs.push(next()); break;
      case '--dawn': args.dawn.push(next()); break;
      case '-h':
      case '--help':
        throw new Error(USAGE);
      default:
        throw new Error(`unknown argument ${a}\n${USAGE}`);
    }
  }
  if (!options.shapes.length) options.shapes = ['toy', 'small'];
  options.shapes = [...new Set(options.shapes)];
  return args;
}
