// bench/gpu-device.sh's last step: one summary of a run folder, as DEST/summary.json (everything small enough:
// adapter, stages, the bench JSON, CoOp runs and tables) and DEST/summary.md (what a person reads first; kept under
// ~11,000 characters because only the tail of the device's output comes back). Plain JavaScript: no tsx there.
//   node bench/gpu-summary.mjs RUN_DIR DEST
import fs from 'node:fs';
import path from 'node:path';

const [dir, dest] = process.argv.slice(2);
const read = (f) => {
  try {
    return fs.readFileSync(path.join(dir, f), 'utf8');
  } catch {
    return null;
  }
};
const json = (f) => {
  const t = read(f);
  if (t === null) return null;
  try {
    return JSON.parse(t);
  } catch (e) {
    return { unreadable: String(e) };
  }
};
const tail = (t, lines) => (t ?? '').replace(/\r/g, '\n').split('\n').filter((l) => l.trim()).slice(-lines).join('\n');

const stages = (read('stages.txt') ?? '').split('\n').filter(Boolean);
const adapter = json('adapter.json');
const bench = json('bench.json');
const runs = {};
for (const d of fs.readdirSync(dir).sort()) {
  const r = json(path.join(d, 'results.json'));
  if (!r) continue;
  runs[d] = {
    engine: r.engine,
    image_features: r.image_ep,
    runs_done: r.runs_done,
    runs_total: r.runs_total,
    wall_seconds: r.wall_seconds,
    train_seconds: r.train_seconds,
    runs: r.runs,
    table: r.table ?? r.base_to_new,
  };
}
const summary = { stages, adapter, runs, bench: bench && JSON.stringify(bench).length < 4e6 ? bench : bench && { omitted: 'over 4 MB; see gpu-device.tar.gz' } };
fs.writeFileSync(path.join(dest, 'summary.json'), JSON.stringify(summary, null, 1) + '\n');

const md = [];
md.push('# GPU device check', '', '## Stages', ...stages.map((s) => `- ${s}`), '');
const pick = (a) => a && Object.fromEntries(['verdict', 'vendor', 'architecture', 'device', 'description', 'software', 'vk_icd_filenames', 'limits'].filter((k) => k in a).map((k) => [k, a[k]]));
md.push('## Adapter', '```', JSON.stringify(pick(adapter) ?? 'none').slice(0, 1500), '```', '');
md.push('## bench (ViT-B/32-shaped step; tail of its output)', '```', tail(read('bench.log'), 45).slice(-4500), '```', '');
md.push('## counts (tail)', '```', tail(read('counts.log'), 14).slice(-1500), '```', '');
for (const [name, r] of Object.entries(runs)) {
  const per = (r.runs ?? []).map((x) => `${x.method} ${x.shots}-shot seed ${x.seed}: ${Number(x.train_seconds).toFixed(1)} s, ${x.steps} steps${x.failed ? `, FAILED ${x.failed}` : ''}`);
  md.push(`## ${name}: ${r.runs_done}/${r.runs_total} runs, wall ${Number(r.wall_seconds).toFixed(1)} s; ${r.engine}`);
  if (name.startsWith('coop-')) md.push(...per.map((p) => `- ${p}`));
  const table = read(path.join(name, 'results.md'));
  if (table) md.push('', table.trim().slice(0, name.startsWith('coop-') ? 1200 : 2000));
  md.push('');
}
let text = md.join('\n') + '\n';
if (text.length > 11000) text = text.slice(0, 5400) + '\n…(cut; whole summary in summary.md)…\n' + text.slice(-5400);
fs.writeFileSync(path.join(dest, 'summary.md'), md.join('\n') + '\n');
fs.writeFileSync(path.join(dir, 'summary-short.md'), text);
