import { useMemo, useState } from 'react';
import { confusionMatrix, perClassAccuracy } from '../../coop/metrics';
import { useTrainStore } from '../store/train-store';
import { METHOD_LABELS } from '../../coop/method-settings';
import type { ReferenceNumbers } from './demo';

const pct = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '–' : `${(100 * x).toFixed(1)}%`);

export function PerClassResults() {
  const { snapshot, setup } = useTrainStore();
  const splits = setup ? Object.keys(setup.labels).filter((s) => snapshot?.predictions[s]) : [];
  const [chosen, setChosen] = useState('test');
  const split = splits.includes(chosen) ? chosen : (splits.find((s) => s !== 'train') ?? splits[0]);
  const data = useMemo(() => {
    if (!snapshot || !setup || !split) return null;
    const pred = snapshot.predictions[split];
    const labels = setup.labels[split];
    if (!pred || !labels || pred.length !== labels.length) return null;
    // Base-to-new: a split's new part is labelled and predicted among the new classes.
    const K = (split.endsWith('/new') ? setup.newClassNames : setup.classNames)?.length ?? 0;
    if (!K) return null;
    return { perClass: perClassAccuracy(pred, labels, K), confusion: confusionMatrix(pred, labels, K) };
  }, [snapshot, setup, split]);
  if (!data || !setup) return null;
  const names = (split?.endsWith('/new') ? setup.newClassNames : null) ?? setup.classNames;
  const max = Math.max(1, ...data.confusion.flat());
  return (
    <section className="results-panel" data-testid="per-class">
      <h3>
        Per-class accuracy and confusion on{' '}
        <select aria-label="Split" value={split} onChange={(e) => setChosen(e.target.value)}>
          {splits.map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>{' '}
        <span className="muted">({pct(snapshot!.accuracies[split!])} overall)</span>
      </h3>
      <div className="confusion-wrap">
        <table className="confusion" data-testid="confusion">
          <thead>
            <tr>
              <th>true ↓ / predicted →</th>
              {names.map((n) => (
                <th key={n} className="rot">
                  <span>{n}</span>
                </th>
              ))}
              <th>accuracy</th>
            </tr>
          </thead>
          <tbody>
            {data.confusion.map((row, t) => (
              <tr key={names[t]}>
                <th>{names[t]}</th>
                {row.map((v, p) => (
                  <td key={p} className={p === t ? 'diag' : undefined} style={{ background: v ? `rgba(${p === t ? '22,163,74' : '220,38,38'},${(0.1 + (0.6 * v) / max).toFixed(2)})` : undefined }}>
                    {v || ''}
                  </td>
                ))}
                <td data-testid="class-acc">{pct(data.perClass[t])}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function referenceValue(ref: ReferenceNumbers | null, split: string, key: string, shots: number): string {
  const v = ref?.results?.[split]?.[key];
  if (v === undefined) return '–';
  if (typeof v === 'number') return `${v.toFixed(1)}%`;
  const at = v[String(shots)];
  if (at === undefined) return '–';
  return typeof at === 'number' ? `${at.toFixed(1)}%` : `${at.mean.toFixed(1)} ± ${at.std.toFixed(1)}%`;
}

/**
 * This browser's numbers, next to the PyTorch reference of the same task (public/samples/baselines.json) only when
 * the caller found that it belongs to this model and these classes (reference-match.ts); otherwise null.
 */
export function ComparisonTable({ reference }: { reference: ReferenceNumbers | null }) {
  const { baselines, snapshot, setup, runs, activeRunId } = useTrainStore();
  if (!setup || !baselines.hand) return null;
  // A successor's run is named by its method (its row has no PyTorch CoOp number beside it).
  const successor = runs.find((r) => r.id === activeRunId)?.method?.name;
  const splits = Object.keys(setup.labels);
  // PyTorch's reference numbers are for all classes trained: a base-to-new split has none to stand beside.
  const refSplits = splits.filter((s) => s !== 'train' && !s.includes('/'));
  const shots = Math.floor(setup.nTrain / Math.max(1, setup.classNames.length));
  const coopKey = successor ?? (setup.csc ? 'coop_csc' : 'coop_unified');
  const rows: Array<{ label: string; key: string; values: Record<string, number | undefined> }> = [
    { label: 'Zero-shot CLIP ("a photo of a {}.")', key: 'zero_shot', values: baselines.hand.zeroShot.accuracy },
    { label: 'Prompt ensemble', key: 'ensemble', values: baselines.hand.ensemble.accuracy },
    { label: `Linear probe${baselines.probeLambda ? ` (λ ${baselines.probeLambda})` : ''}`, key: 'linear_probe', values: baselines.linearProbe ?? {} },
    { label: `${successor ? METHOD_LABELS[successor] : 'CoOp'} (${setup.csc ? 'CSC' : 'unified'}, M=${setup.nCtx}, ${setup.position}), epoch ${snapshot?.epoch ?? 0}`, key: coopKey, values: snapshot?.accuracies ?? {} },
  ];
  return (
    <section className="results-panel results-wide">
      <h3>{reference ? `Accuracy: this browser vs PyTorch (${shots} shots, baselines.json)` : 'Accuracy in this browser'}</h3>
      <table className="comparison" data-testid="comparison">
        <thead>
          <tr>
            <th>method</th>
            {splits.map((s) => (
              <th key={s}>{s}</th>
            ))}
            {reference && refSplits.map((s) => <th key={`ref-${s}`}>PyTorch {s}</th>)}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.key} data-testid={`row-${r.key}`}>
              <th>{r.label}</th>
              {splits.map((s) => (
                <td key={s} data-split={s} data-value={r.values[s] ?? ''}>
                  {pct(r.values[s])}
                </td>
              ))}
              {reference && refSplits.map((s) => <td key={`ref-${s}`}>{referenceValue(reference, s, r.key, shots)}</td>)}
            </tr>
          ))}
        </tbody>
      </table>
      {reference && (
        <p className="hint">
          PyTorch numbers come from tools/toy-clip/demo.py on the same images ({reference.views ?? '?'} views, mean ± std over {reference.seeds ?? '?'} seeds for CoOp).
          The browser draws its own random views and context, so CoOp agrees in distribution, not digit for digit.
        </p>
      )}
    </section>
  );
}
