import { useEffect, useState } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { isFeatureMethod, learnsPrompt, METHOD_LABELS, METHODS, type Method } from '../../coop/method-settings';
import { adapterOutcome, useMethodStore } from '../store/method-store';
import { accuracyColumns } from '../../coop/results-table';
import type { ModelRuntime } from '../store/model-store';
import { fitAdapter, fitFeature, useTrainStore, type FeatureFit } from '../store/train-store';
import { adapterFileName, serializeAdapterFile } from '../../coop/adapter-file';
import { adapterFileOf } from './adapter-files';
import { download } from './download';
import { isSuccessor, SUCCESSORS } from '../../coop/prompt-learner';
import { cscProblem, METHOD_HINTS, pickMethod, recipeSummary } from '../store/pick-method';

/** The fitted classifier as a coop-adapter file (the command line writes the same), handed to the browser. */
function exportFit(fit: FeatureFit): void {
  if (!fit.model) throw new Error('This page cannot fingerprint the image model (no WebCrypto: open the app over https or from localhost).');
  const file = adapterFileOf(fit.result, fit.classNames, fit.model, { shots: fit.shots, seed: fit.seed });
  download(serializeAdapterFile(file, fit.dim), adapterFileName(file), 'application/json');
}

const METHOD_COLORS: Record<Method, string> = {
  coop: '#2563eb',
  kgcoop: '#16a34a',
  prograd: '#d97706',
  cocoop: '#0f766e',
  deep: '#4f46e5',
  tcp: '#b45309',
  'dept-coop': '#7c3aed',
  'dept-kgcoop': '#db2777',
  tip: '#9333ea',
  'tip-f': '#dc2626',
  clap: '#0891b2',
  lpp: '#65a30d',
  taskres: '#be185d',
  'clip-adapter': '#78716c',
};
type FitMethod = 'tip' | 'tip-f' | 'clap' | 'lpp' | 'taskres' | 'clip-adapter';
const pct = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '–' : `${(100 * x).toFixed(1)}%`);

/**
 * Resolves with how the run that starts after this call ended. It waits to see the run under way first: the previous
 * run's 'done' is still the status for a moment after Train is pressed (Train sets up a new run before its status
 * becomes 'preparing'), and taking that for the new run's end moved Compare all on to the next method while this one
 * still trained, so one method's result was recorded under the next one's name and the last never trained.
 */
function runEnded(): { ended: Promise<string>; cancel: () => void; started: () => boolean } {
  let unsub = () => {};
  let started = false;
  const ended = new Promise<string>((resolve) => {
    unsub = useTrainStore.subscribe((s) => {
      const st = s.history.status;
      if (st === 'preparing' || st === 'ready' || st === 'running' || st === 'stopping') started = true;
      else if (started && (st === 'done' || st === 'failed' || st === 'stopped')) {
        unsub();
        resolve(st);
      }
    });
  });
  return { ended, cancel: () => unsub(), started: () => started };
}

/**
 * The method picker, "Compare all" and one table of every method's accuracy on the current data, with their curves.
 * CoOp, KgCoOp and ProGrad train through the Train button (the same trainer, another loss); Tip-Adapter(-F) fit in
 * the worker on the cached image features; CLAP, LP++, TaskRes and CLIP-Adapter on the same features in a worker of
 * their own (feature-adapters.ts).
 */
export function MethodsPanel({ runtime, busy }: { runtime: ModelRuntime | null; busy: boolean }) {
  const { method, settings, outcomes, outcomesKey, comparing, setSettings, record, setComparing } = useMethodStore();
  const csc = useTrainStore((s) => s.settings.csc);
  const setup = useTrainStore((s) => s.setup);
  const status = useTrainStore((s) => s.history.status);
  const featureFits = useTrainStore((s) => s.featureFits);
  const [error, setError] = useState<string | null>(null);
  const [split, setSplit] = useState('test');

  // A finished prompt-method run becomes that method's row.
  useEffect(() => {
    if (status !== 'done') return;
    const s = useTrainStore.getState();
    if (!s.setup || !s.snapshot) return;
    const m = useMethodStore.getState().method;
    if (!learnsPrompt(m)) return;
    const curve = s.history.epochs.map((p) => Object.fromEntries(Object.entries(p).filter(([k]) => k !== 'epoch').map(([k, v]) => [k, v / 100])));
    const batch = isSuccessor(m) ? `, batch ${s.setup.settings.batchSize}, lr ${s.setup.settings.lr}` : '';
    record(m, { accuracies: s.snapshot.accuracies, curve, ms: s.history.progress?.elapsedMs ?? 0, note: `${s.setup.maxEpochs} epochs${batch}` }, dataKeyOf(s.setup.key));
  }, [status, record]);

  const fit = async (m: FitMethod) => {
    setError(null);
    try {
      const key = dataKeyOf(useTrainStore.getState().setup?.key ?? '');
      if (isFeatureMethod(m)) {
        const r = await fitFeature(m, runtime);
        record(m, { accuracies: r.accuracies, curve: r.curve, ms: r.ms, note: r.note }, key);
        return;
      }
      const r = await fitAdapter(m);
      record(m, adapterOutcome(r), key);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  const compareAll = async () => {
    if (!runtime) return;
    setError(null);
    const keep = method;
    const keptRecipe = useMethodStore.getState().beforeRecipe;
    const { settings: keptSettings, position: keptPosition } = useTrainStore.getState();
    try {
      // The successors each train with their own official recipe (pickMethod applies it; the last pick puts the
      // person's settings back).
      for (const m of ['coop', 'kgcoop', 'prograd', ...SUCCESSORS] as const) {
        setComparing(`training ${METHOD_LABELS[m]}`);
        pickMethod(m);
        const run = runEnded();
        await useTrainStore.getState().train(runtime);
        const now = useTrainStore.getState();
        if (!run.started() || now.history.status === 'failed' || now.history.status === 'idle') {
          // It never started (a problem with the data or settings, shown on the page).
          run.cancel();
          throw new Error(`${METHOD_LABELS[m]} did not start: ${now.problems[0] ?? now.runError ?? now.history.status}`);
        }
        const how = await run.ended;
        if (how !== 'done') throw new Error(`${METHOD_LABELS[m]} ${how}: Compare all stopped there`);
      }
      for (const m of ['tip', 'tip-f', 'clap', 'lpp', 'taskres', 'clip-adapter'] as const) {
        setComparing(`fitting ${METHOD_LABELS[m]}`);
        await fit(m);
      }
    } catch (e) {
      setError((e as Error).message);
    } finally {
      // The picked method and the person's settings as they were before the recipes came and went.
      useMethodStore.setState({ method: keep, beforeRecipe: keptRecipe });
      useTrainStore.setState({ settings: keptSettings, position: keptPosition });
      setComparing(null);
    }
  };

  const currentKey = setup ? dataKeyOf(setup.key) : null;
  const rows = METHODS.filter((m) => outcomes[m] && outcomesKey === currentKey);
  const splits = [...new Set(rows.flatMap((m) => Object.keys(outcomes[m]!.accuracies)))];
  // Plain splits as they come; base-to-new splits as base, new and harmonic mean (src/coop/results-table.ts).
  const columns = accuracyColumns(rows.map((m) => outcomes[m]!.accuracies));
  const baseToNew = columns.some((c) => c.key.endsWith('/H'));
  const curveSplit = splits.includes(split) ? split : (splits.find((s) => s !== 'train') ?? 'train');
  const maxEpochs = Math.max(0, ...rows.map((m) => outcomes[m]!.curve.length));
  const chart = Array.from({ length: maxEpochs }, (_, i) => {
    const point: Record<string, number> = { epoch: i + 1 };
    for (const m of rows) {
      const c = outcomes[m]!.curve;
      if (c[i]?.[curveSplit] !== undefined) point[m] = 100 * c[i][curveSplit];
    }
    return point;
  });

  return (
    <section className="results-panel results-wide" data-testid="methods-panel">
      <h3>Method</h3>
      <div className="method-picker" role="radiogroup" aria-label="Method">
        {METHODS.map((m) => (
          <label key={m}>
            <input type="radio" name="method" value={m} checked={method === m} disabled={busy || !!comparing} onChange={() => pickMethod(m)} /> {METHOD_LABELS[m]}
          </label>
        ))}
      </div>
      <p className="hint" data-testid="method-hint">
        {METHOD_LABELS[method]}: {METHOD_HINTS[method]}.
      </p>
      {isSuccessor(method) && (
        <p className="hint" data-testid="method-recipe">
          {recipeSummary(method)}. Picking it set these in the training settings; change them there.
        </p>
      )}
      {cscProblem(method, csc) && (
        <p className="banner error" role="alert" data-testid="method-csc">
          {cscProblem(method, csc)}
        </p>
      )}
      {method === 'tcp' && (
        <label>
          TCP weight{' '}
          <input type="number" min={0} step={0.5} value={settings.tcpWeight} disabled={busy} data-testid="tcp-weight" onChange={(e) => setSettings({ tcpWeight: Number(e.target.value) })} />{' '}
          <span className="hint">CE + weight·(1 − mean cos of the learned to the hand-written prompts' features), official 8</span>
        </label>
      )}
      {(method === 'dept-coop' || method === 'dept-kgcoop') && (
        <label>
          DePT λ{' '}
          <input type="number" min={0} max={1} step={0.1} value={settings.deptLpWeight} disabled={busy} data-testid="dept-lp-weight" onChange={(e) => setSettings({ deptLpWeight: Number(e.target.value) })} />{' '}
          <span className="hint">the linear head's share of the loss and of the base classes' logits, official 0.7</span>
        </label>
      )}
      {method === 'dept-kgcoop' && (
        <label>
          {' '}KgCoOp weight under DePT{' '}
          <input type="number" min={0} step={0.5} value={settings.deptKgWeight} disabled={busy} data-testid="dept-kg-weight" onChange={(e) => setSettings({ deptKgWeight: Number(e.target.value) })} />{' '}
          <span className="hint">DePT's config: 2</span>
        </label>
      )}
      {method === 'kgcoop' && (
        <label>
          KgCoOp weight w{' '}
          <input type="number" min={0} step={0.5} value={settings.kgWeight} disabled={busy} data-testid="kg-weight" onChange={(e) => setSettings({ kgWeight: Number(e.target.value) })} />{' '}
          <span className="hint">CE + w·(1 − mean cos to "a photo of a {'{}'}."), official 8</span>
        </label>
      )}
      {method === 'prograd' && (
        <label>
          ProGrad λ{' '}
          <input type="number" min={0} max={1} step={0.1} value={settings.progradLambda} disabled={busy} data-testid="prograd-lambda" onChange={(e) => setSettings({ progradLambda: Number(e.target.value) })} />{' '}
          <span className="hint">removes the CE gradient's part that contradicts zero-shot CLIP (official 1); one forward and two backward sweeps per step</span>
        </label>
      )}
      {learnsPrompt(method) ? (
        <p className="hint">
          {METHOD_LABELS[method]} learns the prompt with the Train button ({isSuccessor(method) ? 'the same trainer as CoOp, with its own tensors beside the context' : 'same trainer and settings as CoOp'}).
        </p>
      ) : (
        <p>
          <button type="button" disabled={busy || !setup || !!comparing} onClick={() => void fit(method as FitMethod)} data-testid="fit-adapter">
            Fit {METHOD_LABELS[method]}
          </button>{' '}
          <span className="hint">
            {METHOD_LABELS[method]} trains in seconds on the cached image features alone (no pass through the text encoder), with its official settings (docs/methods.md).
            {!setup && ' Press Train once first: it encodes the images and views they use.'}
          </span>
          {isFeatureMethod(method) && featureFits[method] && (
            <>
              {' '}
              <button
                type="button"
                data-testid="export-adapter"
                disabled={!featureFits[method]!.model}
                title={featureFits[method]!.model ? `Its weights as a coop-adapter file; Import loads it back (for this model only)` : 'No WebCrypto on this page (not https or localhost): the file cannot name the image model'}
                onClick={() => {
                  try {
                    exportFit(featureFits[method]!);
                  } catch (e) {
                    setError((e as Error).message);
                  }
                }}
              >
                Export {METHOD_LABELS[method]} file
              </button>
            </>
          )}
        </p>
      )}
      <p>
        <button type="button" disabled={!runtime || busy || !!comparing} onClick={() => void compareAll()} data-testid="compare-all">
          Compare all
        </button>{' '}
        <span className="hint">{comparing ?? 'trains CoOp, KgCoOp, ProGrad, CoCoOp, deep prompts, TCP and DePT in turn (each successor with its official settings), then fits Tip-Adapter(-F), CLAP, LP++, TaskRes and CLIP-Adapter, on the same data'}</span>
      </p>
      {error && <p className="error">{error}</p>}
      {rows.length > 0 && (
        <>
          <table className="comparison" data-testid="methods-table">
            <thead>
              <tr>
                <th>method</th>
                {columns.map((c) => (
                  <th key={c.key}>{c.label}</th>
                ))}
                <th>time</th>
                <th>notes</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((m) => (
                <tr key={m} data-testid={`method-row-${m}`}>
                  <th>{METHOD_LABELS[m]}</th>
                  {columns.map((c) => (
                    <td key={c.key} data-col={c.key}>
                      {pct(c.value(outcomes[m]!.accuracies))}
                    </td>
                  ))}
                  <td>{(outcomes[m]!.ms / 1000).toFixed(1)} s</td>
                  <td>{outcomes[m]!.note}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {baseToNew && (
            <p className="hint">
              Base-to-new: base = base-class images among the base classes, new = new-class images among the new classes (learned unified context; Tip-Adapter(-F), CLAP, LP++, TaskRes and CLIP-Adapter fall back to zero-shot CLIP there), H = their harmonic mean.
            </p>
          )}
          {chart.length > 0 && (
            <figure className="chart">
              <figcaption>
                Accuracy per epoch (%) on{' '}
                <select aria-label="Methods chart split" value={curveSplit} onChange={(e) => setSplit(e.target.value)}>
                  {splits.map((s) => (
                    <option key={s}>{s}</option>
                  ))}
                </select>
              </figcaption>
              <ResponsiveContainer width="100%" height={220}>
                <LineChart data={chart} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
                  <CartesianGrid strokeDasharray="3 3" />
                  <XAxis dataKey="epoch" type="number" domain={[1, 'dataMax']} allowDecimals={false} />
                  <YAxis domain={[0, 100]} width={40} />
                  <Tooltip formatter={(v) => (typeof v === 'number' ? `${v.toFixed(1)}%` : String(v))} labelFormatter={(l) => `epoch ${l}`} />
                  <Legend />
                  {rows
                    .filter((m) => outcomes[m]!.curve.length)
                    .map((m) => (
                      <Line key={m} type="monotone" dataKey={m} name={METHOD_LABELS[m]} stroke={METHOD_COLORS[m]} dot={false} isAnimationActive={false} />
                    ))}
                  {rows
                    .filter((m) => !outcomes[m]!.curve.length && outcomes[m]!.accuracies[curveSplit] !== undefined)
                    .map((m) => (
                      <ReferenceLine key={m} y={100 * outcomes[m]!.accuracies[curveSplit]} stroke={METHOD_COLORS[m]} strokeDasharray="6 4" label={{ value: METHOD_LABELS[m], position: 'insideTopRight', fontSize: 11, fill: METHOD_COLORS[m] }} />
                    ))}
                </LineChart>
              </ResponsiveContainer>
            </figure>
          )}
        </>
      )}
    </section>
  );
}

/** The data part of a setup key: outcomes of different methods on the same data belong in one table. */
function dataKeyOf(setupKey: string): string {
  try {
    const parts = JSON.parse(setupKey) as unknown[];
    return JSON.stringify(parts.slice(0, 4));
  } catch {
    return setupKey;
  }
}
