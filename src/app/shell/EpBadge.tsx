import { useModelStore } from '../store/model-store';
import { useTrainStore } from '../store/train-store';
import type { PathChoice } from '../../engine/choose-path';

/** A probe choice's data attributes, so tests and users can read both rates. */
function rateAttrs(choice: PathChoice | undefined) {
  return {
    'data-gpu-rate': choice?.rates.gpu?.perSecond ?? '',
    'data-cpu-rate': choice?.rates.cpu?.perSecond ?? '',
  };
}

/** Which execution provider runs the encoders, both EPs' probe rates; the tooltip says why. */
export function EpBadge() {
  const ep = useModelStore((s) => s.ep);
  if (!ep) return <span className="badge muted">EP: …</span>;
  return (
    <span className={`badge ep-${ep.ep}`} data-testid="ep-badge" data-ep={ep.ep} title={ep.detail} {...rateAttrs(ep.choice)}>
      {ep.choice?.summary ?? (ep.ep === 'webgpu' ? 'WebGPU' : 'WASM')}
    </span>
  );
}

/** The training worker's text engine once chosen (on the first Train): both engines' step rates and the reason. */
export function TextEngineBadge() {
  const engine = useTrainStore((s) => s.engine);
  if (!engine?.choice) return null;
  return (
    <span className={`badge engine-${engine.kind}`} data-testid="engine-choice" data-engine={engine.kind} title={engine.choice.reason} {...rateAttrs(engine.choice)}>
      {engine.choice.summary}
    </span>
  );
}
