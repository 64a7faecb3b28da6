import { formatProfile } from './profile';
/** The printed form of a result: plain-text tables that also read as Markdown. */
import type { BenchResult } from './types';

function fmt(v: number | null | undefined, digits = 2): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  return v.toFixed(digits);
}

function bytesStr(v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  if (v >= 1 << 30) return `${(v / 2 ** 30).toFixed(2)} GiB`;
  if (v >= 1 << 20) return `${(v / 2 ** 20).toFixed(1)} MiB`;
  return `${(v / 1024).toFixed(0)} KiB`;
}

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(w[i])).join(' | ')} |`;
  return [line(head), `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

export function formatTables(r: BenchResult): string {
  const out: string[] = [];
  const profiles = r.profile ?? [];
  const a = r.adapter;
  out.push(`Adapter: ${[a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' / ') || 'unknown'} (${a.runner}; ${a.host})`);
  out.push('');
  if (r.text_step.length) {
    out.push('Text step (forward + loss + backward to the context; median wall-clock ms; GFLOP = planned FLOPs of the path):');
    out.push(
      table(
        ['shape', 'K', 'M', 'ctx', 'pos', 'naive ms', 'fast ms', 'speedup', 'naive pos', 'fast pos', 'naive GFLOP', 'fast GFLOP', 'fast GFLOP/s', 'of matmul', 'peak (meas/plan)', 'reps'],
        r.text_step.map((t) => [
          t.shape,
          String(t.k),
          String(t.m),
          t.csc ? 'CSC' : 'unified',
          t.position,
          fmt(t.naive_ms, 1),
          fmt(t.fast_ms, 1),
          t.speedup === null ? '—' : `${t.speedup.toFixed(1)}×`,
          String(t.naive_positions),
          String(t.fast_positions),
          fmt(t.naive_gflop_per_step, 3),
          fmt(t.gflop_per_step, 3),
          fmt(t.fast_gflops, 3),
          t.fast_fraction_of_matmul === null ? '—' : `${(100 * t.fast_fraction_of_matmul).toFixed(0)}%`,
          `${bytesStr(t.fast_peak_bytes_measured)} / ${bytesStr(t.fast_peak_bytes_planned)}`,
          String(t.reps),
        ]),
      ),
    );
    const notes = r.text_step.filter((t) => t.note);
    for (const t of notes) out.push(`  note (${t.shape} K=${t.k} ${t.csc ? 'CSC' : 'unified'} ${t.position}): ${t.note}`);
    out.push('');
  }
  if (r.plan.length) {
    out.push('Plan (not run; the engine planner\'s counts):');
    out.push(
      table(
        ['shape', 'K', 'naive pos', 'fast pos', 'naive GFLOP', 'fast GFLOP', 'ratio', 'chunk fast/naive', 'fast peak', 'naive peak', 'one chunk: fast GFLOP', 'fast peak', 'naive peak'],
        r.plan.map((p) => [
          p.shape,
          String(p.k),
          String(p.naive_positions),
          String(p.fast_positions),
          fmt(p.naive_gflop_per_step, 1),
          fmt(p.fast_gflop_per_step, 1),
          `${(p.naive_gflop_per_step / p.fast_gflop_per_step).toFixed(1)}×`,
          `${p.chunk}/${p.naive_chunk}`,
          bytesStr(p.peak_bytes),
          bytesStr(p.naive_peak_bytes),
          fmt(p.fast_gflop_one_chunk, 1),
          bytesStr(p.fast_peak_bytes_one_chunk),
          bytesStr(p.naive_peak_bytes_one_chunk),
        ]),
      ),
    );
    out.push('');
  }
  if (r.matmul.length) {
    out.push(`Matmul kernel alone (best: ${fmt(r.matmul_gflops, 3)} GFLOP/s):`);
    out.push(
      table(
        ['shape', 'op', 'M×K·K×N', 'kernel', 'ms', 'GFLOP/s'],
        r.matmul.map((m) => [m.shape, m.label, `${m.m}×${m.k}·${m.k}×${m.n}`, m.kernel ?? 'tiled', fmt(m.ms, 2), fmt(m.gflops, 3)]),
      ),
    );
    out.push('');
  }
  if (r.image_encode) {
    const i = r.image_encode;
    out.push(`Image encoding (${i.model ?? 'bundled toy-clip vision tower'}, images/s):`);
    const rows: string[][] = [
      ['ORT-web WebGPU EP', fmt(i.webgpu_ips_b1, 1), fmt(i.webgpu_ips_b32, 1)],
      ['ORT-web WASM EP', fmt(i.wasm_ips_b1, 1), fmt(i.wasm_ips_b32, 1)],
    ];
    if (i.node_cpu_ips_b1 !== undefined) rows.push(['onnxruntime-node CPU EP', fmt(i.node_cpu_ips_b1, 1), fmt(i.node_cpu_ips_b32, 1)]);
    out.push(table(['execution provider', 'batch 1', 'batch 32'], rows));
    if (i.note) out.push(`  note: ${i.note}`);
    out.push('');
  }
  if (r.errors.length) {
    out.push('Errors:');
    for (const e of r.errors) out.push(`  ${e}`);
    out.push('');
  }
  out.push(`Total: ${r.seconds.toFixed(0)} s`);
  for (const p of profiles) out.push('', formatProfile(p));
  return out.join('\n');
}
