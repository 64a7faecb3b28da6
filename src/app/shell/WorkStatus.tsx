import { useEffect, useRef, useState } from 'react';
import type { PathChoice } from '../../engine/choose-path';
import { useModelStore } from '../store/model-store';
import { useTrainStore } from '../store/train-store';
import { encodingWords, trainingWords, wasmThreads } from './work-status';

/** A probe choice's data attributes, so tests and benchmarks can read both rates. */
function rateAttrs(choice: PathChoice | undefined) {
  return {
    'data-gpu-rate': choice?.rates.gpu?.perSecond ?? '',
    'data-cpu-rate': choice?.rates.cpu?.perSecond ?? '',
  };
}

/** Images per second of the encoding under way (the Train page's "Encoding …" progress), kept after it ends. */
function useLiveEncodeRate(): number | undefined {
  const preparing = useTrainStore((s) => s.preparing);
  const start = useRef<{ label: string; t: number; done: number } | null>(null);
  const [rate, setRate] = useState<number | undefined>(undefined);
  useEffect(() => {
    if (!preparing || !preparing.label.startsWith('Encoding')) {
      start.current = null;
      return;
    }
    const now = performance.now();
    if (start.current?.label !== preparing.label) start.current = { label: preparing.label, t: now, done: preparing.done };
    const s = (now - start.current.t) / 1000;
    const n = preparing.done - start.current.done;
    // A rate needs a few images and a moment; a cached pass is over before it means anything.
    if (n >= 4 && s > 0.5) setRate(n / s);
  }, [preparing]);
  return rate;
}

/**
 * One short line under the header: where the images are encoded and where the prompt trains, on how many threads
 * and how fast, in plain words. The reasons with their measurements are behind "Details".
 */
export function WorkStatus() {
  const ep = useModelStore((s) => s.ep);
  const engine = useTrainStore((s) => s.engine);
  const progress = useTrainStore((s) => s.history.progress);
  const liveEncode = useLiveEncodeRate();
  const threads = wasmThreads(
    typeof crossOriginIsolated !== 'undefined' && crossOriginIsolated,
    typeof navigator !== 'undefined' ? navigator.hardwareConcurrency : 1,
    typeof location !== 'undefined' ? new URLSearchParams(location.search).get('ep-threads') : null,
  );
  const encoding = encodingWords(ep, threads, liveEncode);
  const training = trainingWords(engine, progress?.stepsPerSec);
  return (
    <div className="work-status" data-testid="work-status">
      {ep ? (
        <span data-testid="ep-badge" data-ep={ep.ep} title={ep.detail} {...rateAttrs(ep.choice)}>
          {encoding}
        </span>
      ) : (
        <span>{encoding}</span>
      )}
      <span aria-hidden="true"> · </span>
      {engine ? (
        <span data-testid="engine-badge" data-engine={engine.kind} title={engine.detail} {...rateAttrs(engine.choice)}>
          {training}
        </span>
      ) : (
        <span>{training}</span>
      )}
      <details className="work-details">
        <summary>Details</summary>
        <dl>
          <dt>Image encoder (onnxruntime-web)</dt>
          <dd>{ep ? `${ep.detail.replace(/\.?$/, '.')}${ep.choice ? ` Rates: ${ep.choice.summary}.` : ''}` : 'starting…'}</dd>
          <dt>Training engine</dt>
          <dd>
            {engine ? (
              <>
                {engine.detail.replace(/\.?$/, '.')}
                {engine.choice && (
                  <>
                    {' '}
                    Rates:{' '}
                    <span data-testid="engine-choice" data-engine={engine.kind} title={engine.choice.reason} {...rateAttrs(engine.choice)}>
                      {engine.choice.summary}
                    </span>
                    .
                  </>
                )}
              </>
            ) : (
              'Chosen on the first Train: a short test run of each, the faster is kept (?engine=cpu or ?engine=webgpu in the address forces one; ?threads=N sets the CPU threads).'
            )}
          </dd>
        </dl>
      </details>
    </div>
  );
}
