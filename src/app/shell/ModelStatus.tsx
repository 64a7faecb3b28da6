import { useModelStore } from '../store/model-store';
import { formatBytes } from './format';
import { ProgressBar } from './ProgressBar';

/** Loading progress, or what went wrong with the chosen model, under the header. */
export function ModelStatus() {
  const { phase, progress, error, deviceLost, selected, runtime } = useModelStore();
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
    const { textFile, visionFile } = runtime.model;
    return (
      <div className="model-summary" data-testid="model-ready" data-text-file={textFile.path} data-vision-file={visionFile.path}>
        <strong>{m.name}</strong> · {m.image_size} px images · {m.embed_dim}-d features · <LogitScale value={m.logit_scale} /> ·{' '}
        <details className="model-files">
          <summary>Files</summary>
          <span className="model-towers" data-testid="model-towers">
            text: <code>{textFile.path}</code> ({textFile.dtype}
            {textFile.dtype === 'fp16' ? ', computed in fp32' : ''}) · image: <code>{visionFile.path}</code> ({visionFile.dtype})
          </span>
        </details>
      </div>
    );
  }
  return null;
}

/** The multiplier of cos(image, text): 100 for OpenAI's CLIP unless a manifest says otherwise; kept with the model. */
function LogitScale({ value }: { value: number }) {
  const setLogitScale = useModelStore((s) => s.setLogitScale);
  return (
    <label className="logit-scale" title="Logits are this times the cosine of image and text features (OpenAI's trained logit_scale.exp() is 100). Kept with the model.">
      logit scale{' '}
      <input
        key={value}
        type="number"
        min={1}
        max={1000}
        step="any"
        defaultValue={value}
        data-testid="logit-scale"
        onBlur={(e) => {
          const v = Number(e.target.value);
          if (v > 0 && Number.isFinite(v) && v !== value) void setLogitScale(v);
          else e.target.value = String(value);
        }}
        onKeyDown={(e) => e.key === 'Enter' && (e.target as HTMLInputElement).blur()}
      />
    </label>
  );
}
