/**
 * The engine's matmul kernel alone, on the shapes a training step spends its time in, so a
 * step's achieved GFLOP/s can be read as a fraction of what the kernel reaches at all.
 *
 * Shapes for width D, MLP width F and N rows (the positions of one fast step):
 *   X·W   [N,D]·[D,D]   q, k, v and the attention output projection
 *   X·W   [N,D]·[D,F]   fc1
 *   X·W   [N,F]·[F,D]   fc2
 *   dY·Wᵀ [N,F]·[D,F]ᵀ  fc1 backward (dX only: the weights are frozen)
 *   dY·Wᵀ [N,D]·[F,D]ᵀ  fc2 backward
 */
import { encodeMatmul, matmulVec4Fits, type MatmulKernel } from '../../src/engine/ops/matmul/gpu';
import { matmulFlops } from '../../src/engine/ops/flops';
import { submitPass } from '../../src/engine/gpu/dispatch';
import { STORAGE_USAGE } from '../../src/engine/gpu/allocator';
import type { TextConfig } from '../../src/engine/model/text-weights';
import { Budget, median, timeGpu, type Log } from './timing';
import type { MatmulRow, ShapeName } from './types';

interface MatmulCase {
  label: string;
  m: number;
  n: number;
  k: number;
  transB: boolean;
}

export function stepMatmulCases(cfg: TextConfig, rows: number): MatmulCase[] {
  const { D, F } = cfg;
  return [
    { label: 'qkv/out X·W', m: rows, n: D, k: D, transB: false },
    { label: 'fc1 X·W', m: rows, n: F, k: D, transB: false },
    { label: 'fc2 X·W', m: rows, n: D, k: F, transB: false },
    { label: 'fc1 dY·Wᵀ', m: rows, n: D, k: F, transB: true },
    { label: 'fc2 dY·Wᵀ', m: rows, n: F, k: D, transB: true },
  ];
}

function randomBuffer(device: GPUDevice, floats: number): GPUBuffer {
  const data = new Float32Array(floats);
  for (let i = 0; i < floats; i++) data[i] = Math.sin(i * 12.9898) * 0.5;
  const buf = device.createBuffer({ size: floats * 4, usage: STORAGE_USAGE, mappedAtCreation: true });
  new Float32Array(buf.getMappedRange()).set(data);
  buf.unmap();
  return buf;
}

/**
 * Several dispatches per submission, so that per-submission latency (large on software
 * adapters and in browsers) does not count against the kernel.
 */
export async function benchMatmul(
  device: GPUDevice,
  shape: ShapeName,
  cfg: TextConfig,
  rows: number,
  reps: number,
  budget: Budget,
  log: Log,
): Promise<MatmulRow[]> {
  const out: MatmulRow[] = [];
  for (const c of stepMatmulCases(cfg, rows)) {
    const a = randomBuffer(device, c.m * c.k);
    const b = randomBuffer(device, c.k * c.n);
    const y = device.createBuffer({ size: c.m * c.n * 4, usage: STORAGE_USAGE });
    const flops = matmulFlops(c.m, c.n, c.k);
    // The scalar tiled kernel and the register-blocked vec4 one ('auto' picks it where the shape allows),
    // side by side on the same buffers, their repetitions alternating so that a change in load hits both alike.
    const vec4 = matmulVec4Fits(device, { a, b, c: y }, c);
    const kernels: MatmulKernel[] = vec4 ? ['tiled', 'vec4'] : ['tiled'];
    const run = (kernel: MatmulKernel, times: number) => () =>
      submitPass(device, (pass) => {
        for (let i = 0; i < times; i++) encodeMatmul(device, pass, { a, b, c: y }, { m: c.m, n: c.n, k: c.k, transB: c.transB, kernel });
      }, 'bench-matmul');
    const state = [];
    for (const kernel of kernels) {
      // A 64×64×64 corner compiles the variant's pipeline, so the first full dispatch is all compute:
      // its time says how many fit a timed batch, and where it takes seconds (software adapters) it counts.
      await timeGpu(device, () =>
        submitPass(device, (pass) =>
          encodeMatmul(device, pass, { a, b, c: y }, { m: Math.min(c.m, 64), n: Math.min(c.n, 64), k: Math.min(c.k, 64), transB: c.transB, kernel }),
        ),
      );
      const first = await timeGpu(device, run(kernel, 1));
      const perSubmit = Math.max(1, Math.min(8, Math.floor(200 / Math.max(first, 1))));
      const times: number[] = first > 5000 ? [first] : [];
      state.push({ kernel, perSubmit, times, spent: times.length ? first : 0 });
    }
    for (let r = 0; r < reps; r++) {
      for (const st of state) {
        if (r < st.times.length) continue;
        if (r > 0 && (st.spent > 3000 || budget.leftMs < 2 * st.perSubmit * median(st.times))) continue;
        const ms = await timeGpu(device, run(st.kernel, st.perSubmit));
        st.spent += ms;
        st.times.push(ms / st.perSubmit);
      }
    }
    a.destroy();
    b.destroy();
    y.destroy();
    for (const st of state) {
      const ms = median(st.times);
      const row: MatmulRow = { shape, label: c.label, m: c.m, n: c.n, k: c.k, transB: c.transB, kernel: st.kernel, ms, gflops: flops / ms / 1e6 };
      log(`matmul ${shape} ${c.label} [${c.m}×${c.k}]·[${c.k}×${c.n}]${c.transB ? 'ᵀ' : ''} ${st.kernel}: ${ms.toFixed(2)} ms, ${row.gflops.toFixed(3)} GFLOP/s`);
      out.push(row);
    }
    if (budget.leftMs <= 0) break;
  }
  return out;
}
