import { useEffect, useState } from 'react';
import { ProgressBar } from '../shell/ProgressBar';
import { useModelStore } from '../store/model-store';
import { useTrainStore } from '../store/train-store';
import { ClassCards } from './ClassCards';
import { fetchReferenceNumbers, loadDemo, type ReferenceNumbers } from './demo';
import { ExportImport } from './ExportImport';
import { AccuracyChart, LossChart, RunStats } from './LiveView';
import { NearestTokens } from './NearestTokens';
import { PredictPanel } from './PredictPanel';
import { ComparisonTable, PerClassResults } from './Results';
import { SettingsPanel } from './SettingsPanel';
import './train.css';

function Controls() {
  const runtime = useModelStore((s) => s.runtime);
  const { history, setup, train, stop, reset } = useTrainStore();
  const s = history.status;
  const busy = s === 'preparing' || s === 'running' || s === 'stopping';
  const canResume = (s === 'stopped' || s === 'failed') && !!setup && !setup.evalOnly && history.loss.length > 0;
  return (
    <div className="controls button-row">
      <button type="button" className="primary" data-testid="train" disabled={!runtime || busy} onClick={() => runtime && void train(runtime)}>
        {canResume ? 'Resume' : 'Train'}
      </button>
      <button type="button" data-testid="stop" disabled={s !== 'running'} onClick={stop}>
        {s === 'stopping' ? 'Stopping…' : 'Stop'}
      </button>
      <button type="button" data-testid="reset" disabled={busy || !setup} onClick={reset}>
        Reset
      </button>
    </div>
  );
}

function EngineBadge() {
  const engine = useTrainStore((s) => s.engine);
  if (!engine) return null;
  return (
    <span className={`badge engine-${engine.kind}`} data-testid="engine-badge" data-engine={engine.kind} title={engine.detail}>
      text engine: {engine.kind === 'webgpu' ? 'WGSL (WebGPU)' : 'CPU fallback'}
    </span>
  );
}

export function TrainPage() {
  const runtime = useModelStore((s) => s.runtime);
  const modelError = useModelStore((s) => s.deviceLost);
  const st = useTrainStore();
  const [reference, setReference] = useState<ReferenceNumbers | null>(null);
  const [demoError, setDemoError] = useState<string | null>(null);
  const [demoLoading, setDemoLoading] = useState(false);
  const busy = ['preparing', 'running', 'stopping'].includes(st.history.status);
  const hasGpu = typeof navigator !== 'undefined' && !!navigator.gpu;

  useEffect(() => {
    void fetchReferenceNumbers().then(setReference);
  }, []);

  const onLoadDemo = async () => {
    setDemoError(null);
    setDemoLoading(true);
    try {
      const demo = await loadDemo();
      st.loadCards(demo.cards, demo.extraSets);
    } catch (e) {
      setDemoError((e as Error).message);
    } finally {
      setDemoLoading(false);
    }
  };

  return (
    <div className="train-page">
      <section className="panel train-data">
        <div className="button-row">
          <button type="button" data-testid="load-demo" disabled={busy || demoLoading} onClick={() => void onLoadDemo()}>
            {demoLoading ? 'Loading demo…' : 'Load demo'}
          </button>
          {st.extraSets.map((e) => (
            <span key={e.name} className="badge muted" data-testid={`extra-${e.name}`}>
              second test set "{e.name}": {e.items.length} images
            </span>
          ))}
        </div>
        {demoError && <p className="banner error">{demoError}</p>}
        <ClassCards disabled={busy} />
      </section>

      <aside className="panel train-side">
        <SettingsPanel disabled={busy} />
        <Controls />
        <EngineBadge />
        {!hasGpu && (
          <p className="banner error" data-testid="no-webgpu">
            This browser has no WebGPU: training runs on the CPU fallback (much slower), and images are encoded with WASM.
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
        {st.preparing && <ProgressBar value={st.preparing.done} max={st.preparing.total} label={`${st.preparing.label}: ${st.preparing.done} of ${st.preparing.total}`} />}
      </aside>

      <section className="panel train-live">
        <RunStats />
        <LossChart />
        <AccuracyChart />
      </section>

      <section className="panel train-results">
        <ComparisonTable reference={reference} />
        <PerClassResults />
        {runtime && <PredictPanel runtime={runtime} />}
        <NearestTokens />
        {runtime && <ExportImport runtime={runtime} busy={busy} />}
      </section>
    </div>
  );
}
