import { useModelStore } from '../store/model-store';
import { formatBytes } from './format';
import { ProgressBar } from './ProgressBar';

/** Loading progress, or what went wrong with the chosen model, under the header. */
export function ModelStatus() {
  const { phase, progress, error, deviceLost, selected, runtime, ep } = useModelStore();
  const select = useModelStore((s) => s.select);
  if (deviceLost) {
    return (
      <div className="banner error" role="alert" data-testid="device-lost">
        <p>{deviceLost}</p>
        {selected && <button onClick={() => void select(selected)}>Reload model</button>}
      </div>
    );
  }
  if (error) {
    return (
      <div className="banner error" role="alert" data-testid="model-error">
        {error}
      </div>
    );
  }
  if (phase === 'downloading' && progress) {
    const label = `Loading ${progress.file.split('/').pop()}: ${formatBytes(progress.loaded)}${progress.total ? ` of ${formatBytes(progress.total)}` : ''}`;
    return <ProgressBar value={progress.loaded} max={progress.total} label={label} />;
  }
  if (phase === 'downloading' || phase === 'listing') return <ProgressBar value={0} max={0} label="Finding models…" />;
  if (phase === 'compiling') return <ProgressBar value={0} max={0} label="Preparing the encoders…" />;
  if (phase === 'ready' && runtime) {
    const m = runtime.model.manifest;
    return (
      <p className="model-summary" data-testid="model-ready">
        <strong>{m.name}</strong> · {m.image_size}px images · {m.embed_dim}-d features · logit scale{' '}
        {m.logit_scale.toFixed(1)} · {ep?.detail}
      </p>
    );
  }
  return null;
}
