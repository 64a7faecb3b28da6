import { useMemo, useState } from 'react';
import { emaSmooth } from './ema';
import { CartesianGrid, Legend, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { useTrainStore } from '../store/train-store';

const COLORS: Record<string, string> = { train: '#2563eb', test: '#16a34a', shifted: '#d97706' };
const REF_COLORS = { zeroShot: '#6b7280', ensemble: '#9333ea', linearProbe: '#dc2626' };

function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  const m = Math.floor(s / 60);
  return m ? `${m} min ${s % 60} s` : `${s} s`;
}

const mib = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(bytes < 100 * 1024 ** 2 ? 1 : 0)} MB`;

export function RunStats() {
  const { history, setup } = useTrainStore();
  const gpu = useTrainStore((s) => s.snapshot?.gpuMemory);
  const p = history.progress;
  const maxEpochs = setup?.maxEpochs ?? 0;
  return (
    <dl className="run-stats" data-testid="run-stats" data-status={history.status} data-steps={history.loss.length} data-epochs={history.epochs.length}>
      <div>
        <dt>Epoch</dt>
        <dd data-testid="stat-epoch">{p ? `${p.epoch} / ${maxEpochs}` : `0 / ${maxEpochs || '–'}`}</dd>
      </div>
      <div>
        <dt>Step</dt>
        <dd>{p ? `${p.step} / ${p.totalSteps}` : '–'}</dd>
      </div>
      <div>
        <dt>lr</dt>
        <dd>{p ? p.lr.toExponential(2) : '–'}</dd>
      </div>
      <div>
        <dt>Elapsed</dt>
        <dd>{p ? formatDuration(p.elapsedMs) : '–'}</dd>
      </div>
      <div>
        <dt>Steps/s</dt>
        <dd data-testid="stat-sps" data-sps={p?.stepsPerSec}>{p ? p.stepsPerSec.toFixed(2) : '–'}</dd>
      </div>
      {gpu && (
        <div title="GPU buffers of the WGSL text engine: weights, activations and readback. Peak over the run so far.">
          <dt>GPU memory</dt>
          <dd data-testid="stat-gpu-memory" data-live-bytes={gpu.liveBytes} data-peak-bytes={gpu.peakBytes}>
            {mib(gpu.liveBytes)} (peak {mib(gpu.peakBytes)})
          </dd>
        </div>
      )}
    </dl>
  );
}

const OVERLAY_COLORS = ['#9333ea', '#dc2626', '#0891b2', '#65a30d', '#c026d3', '#ea580c'];

/** The runs chosen to be drawn over the shown one, with their colours. */
function useOverlayRuns() {
  const runs = useTrainStore((s) => s.runs);
  const overlay = useTrainStore((s) => s.overlay);
  const active = useTrainStore((s) => s.activeRunId);
  return runs.filter((r) => overlay.includes(r.id) && r.id !== active).map((r, i) => ({ run: r, color: OVERLAY_COLORS[i % OVERLAY_COLORS.length] }));
}

/** The loss chart in words, for screen readers and a glance: where it started, where it is, the lowest. */
export function lossSummary(loss: ReadonlyArray<{ step: number; loss: number }>): string {
  if (loss.length === 0) return 'No steps yet: the loss appears here once training starts.';
  const last = loss[loss.length - 1];
  const min = loss.reduce((a, p) => (p.loss < a.loss ? p : a), loss[0]);
  return `Loss ${loss[0].loss.toFixed(3)} at step ${loss[0].step}, ${last.loss.toFixed(3)} at step ${last.step} (lowest ${min.loss.toFixed(3)} at step ${min.step}).`;
}

/** The accuracy chart in words: each split's accuracy after the last epoch, and its best. */
export function accuracySummary(epochs: ReadonlyArray<Record<string, number>>, splits: readonly string[]): string {
  if (epochs.length === 0) return 'No epochs yet: accuracy on each split appears here after every epoch.';
  const last = epochs[epochs.length - 1];
  const parts = splits
    .filter((s) => typeof last[s] === 'number')
    .map((s) => {
      const best = Math.max(...epochs.map((p) => (typeof p[s] === 'number' ? p[s] : -Infinity)));
      return `${s} ${last[s].toFixed(1)}% (best ${best.toFixed(1)}%)`;
    });
  return `After epoch ${last.epoch}: ${parts.join(', ')}.`;
}

export function LossChart() {
  const raw = useTrainStore((s) => s.history.loss);
  const others = useOverlayRuns().filter((o) => o.run.loss.length);
  const activeName = useTrainStore((s) => s.runs.find((r) => r.id === s.activeRunId)?.name);
  // TensorBoard-style smoothing drawn over the (faded) raw line; 0 shows the raw line alone.
  const [smoothing, setSmoothing] = useState(0.6);
  const loss = useMemo(() => {
    const sm = smoothing > 0 ? emaSmooth(raw.map((p) => p.loss), smoothing) : null;
    return raw.map((p, i) => (sm ? { ...p, smoothed: sm[i] } : p));
  }, [raw, smoothing]);
  return (
    <figure className="chart" data-testid="loss-chart" data-points={loss.length} data-overlays={others.length}>
      <figcaption>
        Training loss per step ·{' '}
        <label>
          smoothing{' '}
          <input type="range" min={0} max={0.99} step={0.01} value={smoothing} aria-label="Loss smoothing" data-testid="loss-smoothing" onChange={(e) => setSmoothing(Number(e.target.value))} />{' '}
          {smoothing.toFixed(2)}
        </label>
      </figcaption>
      <p className="chart-summary" data-testid="loss-summary">
        {lossSummary(raw)}
      </p>
      <ResponsiveContainer width="100%" height={170}>
        <LineChart data={loss} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="step" type="number" domain={[1, 'dataMax']} allowDecimals={false} />
          <YAxis domain={[0, 'auto']} width={48} />
          <Tooltip formatter={(v) => (typeof v === 'number' ? v.toFixed(4) : String(v))} labelFormatter={(l) => `step ${l}`} />
          {others.length > 0 && <Legend />}
          <Line type="monotone" dataKey="loss" name={smoothing > 0 ? `${activeName ?? 'loss'} (raw)` : (activeName ?? 'loss')} stroke="#2563eb" strokeOpacity={smoothing > 0 ? 0.3 : 1} dot={false} isAnimationActive={false} />
          {smoothing > 0 && <Line type="monotone" dataKey="smoothed" name={`${activeName ?? 'loss'} (smoothed ${smoothing.toFixed(2)})`} stroke="#1d4ed8" strokeWidth={2} dot={false} isAnimationActive={false} />}
          {others.map(({ run, color }) => (
            <Line key={run.id} data={run.loss} type="monotone" dataKey="loss" name={run.name} stroke={color} strokeDasharray="5 3" dot={false} isAnimationActive={false} />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
}

export function AccuracyChart() {
  const { history, baselines, extraSets } = useTrainStore();
  const known = ['train', 'test', ...extraSets.map((e) => e.name)];
  // Base-to-new runs score `${split}/base` and `${split}/new` (src/coop/base-to-new.ts): drawn after the known splits.
  const more = [...new Set(history.epochs.flatMap((p) => Object.keys(p)))].filter((k) => k !== 'epoch' && !known.includes(k));
  const splits = [...known.filter((s) => history.epochs.some((p) => s in p) || s === 'train'), ...more];
  const available = ['train', 'test', ...extraSets.map((e) => e.name)].filter((s) => baselines.hand?.zeroShot.accuracy[s] !== undefined);
  const [refSplit, setRefSplit] = useState<string>('test');
  // Other runs: their test curve (train where a run has no test split), dashed in the run's colour.
  const others = useOverlayRuns().filter((o) => o.run.epochs.length);
  const ref = available.includes(refSplit) ? refSplit : (available[0] ?? 'train');
  const refs: Array<{ key: keyof typeof REF_COLORS; label: string; value: number | undefined }> = [
    { key: 'zeroShot', label: 'zero-shot CLIP', value: baselines.hand?.zeroShot.accuracy[ref] },
    { key: 'ensemble', label: 'prompt ensemble', value: baselines.hand?.ensemble.accuracy[ref] },
    { key: 'linearProbe', label: 'linear probe', value: baselines.linearProbe?.[ref] },
  ];
  return (
    <figure className="chart" data-testid="acc-chart" data-points={history.epochs.length} data-overlays={others.length}>
      <figcaption>
        Accuracy per epoch (%)
        {available.length > 0 && (
          <>
            {' '}
            · reference lines on{' '}
            <select aria-label="Reference split" value={ref} onChange={(e) => setRefSplit(e.target.value)}>
              {available.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </>
        )}
      </figcaption>
      <p className="chart-summary" data-testid="acc-summary">
        {accuracySummary(history.epochs, splits)}
      </p>
      <ResponsiveContainer width="100%" height={190}>
        <LineChart data={history.epochs} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="epoch" type="number" domain={[1, 'dataMax']} allowDecimals={false} />
          <YAxis domain={[0, 100]} width={40} />
          <Tooltip formatter={(v) => (typeof v === 'number' ? `${v.toFixed(1)}%` : String(v))} labelFormatter={(l) => `epoch ${l}`} />
          <Legend />
          {splits.map((s) => (
            <Line key={s} type="monotone" dataKey={s} name={`${s} (CoOp)`} stroke={COLORS[s] ?? '#0891b2'} dot={history.epochs.length < 30} isAnimationActive={false} />
          ))}
          {others.map(({ run, color }) => {
            const split = run.epochs.some((p) => 'test' in p) ? 'test' : 'train';
            return <Line key={run.id} data={run.epochs} type="monotone" dataKey={split} name={`${split}: ${run.name}`} stroke={color} strokeDasharray="5 3" dot={false} isAnimationActive={false} />;
          })}
          {refs.map((r) =>
            r.value === undefined ? null : (
              <ReferenceLine
                key={r.key}
                y={100 * r.value}
                stroke={REF_COLORS[r.key]}
                strokeDasharray="6 4"
                ifOverflow="extendDomain"
                label={{ value: `${r.label} ${(100 * r.value).toFixed(1)}%`, position: 'insideBottomRight', fontSize: 11, fill: REF_COLORS[r.key] }}
              />
            ),
          )}
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
}
