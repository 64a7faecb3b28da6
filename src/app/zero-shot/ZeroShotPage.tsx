import { useEffect, useMemo } from 'react';
import { useEta } from '../shell/use-eta';
import { ProgressBar } from '../shell/ProgressBar';
import { formatPercent } from '../shell/format';
import { useModelStore } from '../store/model-store';
import { useZeroShotStore } from '../store/zero-shot-store';
import { ClassInput } from './ClassInput';
import { DropZone } from './DropZone';
import { accuracyOf, scoreImages } from './results';
import { ResultsGrid } from './ResultsGrid';
import { SamplePicker } from './SamplePicker';
import { TemplatePicker } from './TemplatePicker';

// Typing a class list fires a change per key; the text tower runs once typing pauses.
const TEXT_DEBOUNCE_MS = 250;

export function ZeroShotPage() {
  const runtime = useModelStore((s) => s.runtime);
  const { classText, template, images, text, featureProgress, featureError } = useZeroShotStore();
  const { updateTextFeatures, encodePendingImages, clearImages } = useZeroShotStore();

  useEffect(() => {
    if (!runtime) return;
    const timer = setTimeout(() => void updateTextFeatures(runtime), TEXT_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [runtime, classText, template, updateTextFeatures]);

  useEffect(() => {
    if (runtime) void encodePendingImages(runtime);
  }, [runtime, images, encodePendingImages]);

  const results = useMemo(() => {
    const ready = runtime && text.status !== 'error' && text.runtimeKey === runtime.key;
    return scoreImages(
      images,
      text.names,
      ready ? text.features : null,
      runtime?.model.manifest.logit_scale ?? 1,
      runtime?.key ?? '',
    );
  }, [images, text, runtime]);
  const accuracy = accuracyOf(results);
  const encodingNow = featureProgress && featureProgress.done < featureProgress.total;
  const eta = useEta('encoding', featureProgress?.done ?? 0, featureProgress?.total ?? 0);

  return (
    <div
      className="zero-shot"
      data-testid="zero-shot"
      data-text-status={text.status}
      data-text-templates={text.templateCount}
      data-text-names={text.names.join('\n')}
    >
      <aside className="panel">
        <ClassInput />
        <TemplatePicker />
        <SamplePicker />
      </aside>
      <section className="panel wide">
        <DropZone />
        {encodingNow && (
          <ProgressBar
            value={featureProgress.done}
            max={featureProgress.total}
            label={`Encoding images: ${featureProgress.done} of ${featureProgress.total}${eta}`}
          />
        )}
        {featureError && (
          <p className="banner error" role="alert">
            {featureError}
          </p>
        )}
        {images.length > 0 && (
          <div className="results-head">
            <span>
              {images.length} image{images.length === 1 ? '' : 's'}
              {(text.status === 'computing' || text.status === 'stale') && ' · encoding class names…'}
            </span>
            {accuracy && (
              <span
                className="accuracy"
                data-testid="accuracy"
                data-correct={accuracy.correct}
                data-total={accuracy.total}
              >
                Accuracy {formatPercent(accuracy.correct / accuracy.total)} ({accuracy.correct}/{accuracy.total} labelled)
              </span>
            )}
            <button onClick={clearImages}>Clear</button>
          </div>
        )}
        <ResultsGrid results={results} />
      </section>
    </div>
  );
}
