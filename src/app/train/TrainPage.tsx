import { MethodsPanel } from './MethodsPanel';
import { useEffect, useState } from 'react';
import { useEta } from '../shell/use-eta';
import { ProgressBar } from '../shell/ProgressBar';
import { useModelStore } from '../store/model-store';
import { useSessionStore } from '../store/session-store';
import { useTrainStore } from '../store/train-store';
import { ClassCards } from './ClassCards';
import { fetchReferenceNumbers, loadDemo, type ReferenceNumbers } from './demo';
import { ExportImport } from './ExportImport';
import { OpenDataset } from './OpenDataset';
import { AccuracyChart, LossChart, RunStats } from './LiveView';
import { NearestTokens } from './NearestTokens';
import { PredictPanel } from './PredictPanel';
import { PromptMap } from './PromptMap';
import { referenceApplies } from './reference-match';
import { RunsPanel } from './RunsPanel';
import { SessionPanel } from './SessionPanel';
import { ComparisonTable, PerClassResults } from './Results';
import { SettingsPanel } from './SettingsPanel';
import './train.css';

function Controls() {
  const runtime = useModelStore((s) => s.runtime);
  const modelPhase = useModelStore((s) => s.phase);
  const { history, setup, train, stop, reset, loading, waitingToTrain, canResume: resumable } = useTrainStore();
  const s = history.status;
  const busy = s === 'preparing' || s === 'running' || s === 'stopping';
  const canResume = resumable(runtime);
  // Train is never silently ignored: it is disabled with the reason shown, or it waits for the loads and then runs.
  const reason = !runtime ? (modelPhase === 'error' ? 'The model failed to load (see above).' : 'Train is available once the model has loaded.') : null;
  return (
    <div className="controls button-row">
      <button type="button" className="primary" data-testid="train" disabled={!runtime || busy || waitingToTrain} title={reason ?? undefined} onClick={() => runtime && void train(runtime)}>
        {canResume ? 'Resume' : 'Train'}
      </button>
      <button type="button" data-testid="stop" disabled={s !== 'running'} onClick={stop}>
        {s === 'stopping' ? 'Stopping…' : 'Stop'}
      </button>
      <button type="button" data-testid="reset" disabled={busy || !setup} onClick={reset}>
        Reset
      </button>
      {reason && (
        <p className="hint" data-testid="train-disabled-reason">
          {reason}
        </p>
      )}
      {waitingToTrain && (
        <p className="hint" data-testid="train-waiting">
          Training starts when {loading.join(', ').toLowerCase() || 'loading'} is done…
        </p>
      )}
    </div>
  );
}

/** What to do on an empty page: the three ways in. */
function EmptyHint() {
  return (
    <div className="empty-hint" data-testid="empty-hint">
      <p>
        <strong>Start here:</strong> press <em>Load demo</em> for a ready-made task, drop images on a class card (add classes with <em>+ Add class</em>), or{' '}
        <em>Open project…</em> to continue from a saved project file.
      </p>
    </div>
  );
}

export function TrainPage() {
  const runtime = useModelStore((s) => s.runtime);
  const modelError = useModelStore((s) => s.deviceLost);
  const st = useTrainStore();
  const [reference, setReference] = useState<ReferenceNumbers | null>(null);
  const [demoError, setDemoError] = useState<string | null>(null);
  const [demoLoading, setDemoLoading] = useState(false);
  const restored = useSessionStore((s) => s.restored);
  const busy = ['preparing', 'running', 'stopping'].includes(st.history.status);
  const hasGpu = typeof navigator !== 'undefined' && !!navigator.gpu;
  const eta = useEta(st.preparing?.label ?? '', st.preparing?.done ?? 0, st.preparing?.total ?? 0);

  useEffect(() => {
    void fetchReferenceNumbers().then(setReference);
  }, []);

  const onLoadDemo = async () => {
    setDemoError(null);
    setDemoLoading(true);
    try {
      // The cards go in inside the tracked load, so a Train waiting for it sees them.
      await st.track(
        'Loading the demo',
        loadDemo().then((demo) => useTrainStore.getState().loadCards(demo.cards, demo.extraSets)),
      );
    } catch (e) {
      setDemoError((e as Error).message);
    } finally {
      setDemoLoading(false);
    }
  };

  return (
    <div className="train-page">
      {/* Keyboard users reach Train without walking every class card's controls; shown when focused. */}
      <button type="button" className="skip-link" onClick={() => document.querySelector<HTMLButtonElement>('[data-testid="train"]')?.focus()}>
        Skip to Train
      </button>
      <div className="train-top">
        <section className="panel train-data" aria-labelledby="train-classes-title">
          <div className="panel-head">
            <h2 id="train-classes-title">1 · Classes</h2>
            <button type="button" data-testid="load-demo" disabled={busy || demoLoading} onClick={() => void onLoadDemo()}>
              {demoLoading ? 'Loading demo…' : 'Load demo'}
            </button>
          </div>
          <div className="button-row">
            <OpenDataset disabled={busy || demoLoading} />
          </div>
          {st.extraSets.map((e) => (
            <p key={e.name} className="hint" data-testid={`extra-${e.name}`}>
              A second test set, "{e.name}": {e.items.length} images.
            </p>
          ))}
          {demoError && <p className="banner error">{demoError}</p>}
          {restored && st.cards.length === 0 && !demoLoading && <EmptyHint />}
          <ClassCards disabled={busy} />
        </section>

        <section className="panel train-side" aria-labelledby="train-training-title">
          <h2 id="train-training-title">2 · Training</h2>
          <Controls />
          {st.preparing && <ProgressBar value={st.preparing.done} max={st.preparing.total} label={`${st.preparing.label}: ${st.preparing.done} of ${st.preparing.total}${eta}`} />}
          {!hasGpu && (
            <p className="hint note" data-testid="no-webgpu">
              This browser has no WebGPU: training and encoding run on the CPU (slower).
            </p>
          )}
          {modelError && (
            <p className="banner error" role="alert">
              {modelError}
            </p>
          )}
          {st.problems.length > 0 && (
            <ul className="problems banner error" role="alert" data-testid="train-problems">
              {st.problems.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          )}
          {st.fileErrors.length > 0 && (
            <div className="banner error" data-testid="file-errors">
              <p>These files were left out:</p>
              <ul>
                {st.fileErrors.map((p) => (
                  <li key={p}>{p}</li>
                ))}
              </ul>
            </div>
          )}
          {(st.runError || st.history.error) && (
            <p className="banner error" role="alert" data-testid="run-error">
              {st.runError ?? st.history.error}{st.snapshot ? ' The learned context up to this point is kept.' : ''}
            </p>
          )}
          {st.setup?.note && <p className="hint note">{st.setup.note}</p>}
          <SettingsPanel disabled={busy} />
          <SessionPanel busy={busy} />
        </section>

        <section className="panel train-live" aria-labelledby="train-live-title">
          <h2 id="train-live-title">3 · Loss and accuracy</h2>
          <RunStats />
          <LossChart />
          <AccuracyChart />
        </section>
      </div>

      <section className="panel train-map" aria-labelledby="prompt-map-title">
        <PromptMap />
      </section>

      {st.runs.length > 0 && (
        <section className="panel train-runs">
          <RunsPanel busy={busy} />
        </section>
      )}

      <section className="panel train-results">
        <ComparisonTable reference={reference && runtime && st.setup && referenceApplies(reference, runtime.model.manifest, st.setup.classNames) ? reference : null} />
        <MethodsPanel runtime={runtime} busy={busy} />
        <PerClassResults />
        {runtime && <PredictPanel runtime={runtime} />}
        <NearestTokens />
        {runtime && <ExportImport runtime={runtime} busy={busy} />}
      </section>
    </div>
  );
}
