import { useRef } from 'react';
import { FEATURE_METHOD_NAMES, isAdapterFile } from '../../coop/adapter-file';
import { promptFileName, promptFileSizeProblem, serializePromptFile, type LearnedPrompt } from '../../coop/prompt-file';
import type { ModelRuntime } from '../store/model-store';
import { useTrainStore } from '../store/train-store';
import { METHOD_LABELS } from '../../coop/method-settings';

/** The learned prompt in src/coop/prompt-file.ts's schema, from the last snapshot. */
export function learnedPrompt(runtime: ModelRuntime): LearnedPrompt | null {
  const { snapshot, setup, nearest, runs, activeRunId } = useTrainStore.getState();
  if (!snapshot || !setup) return null;
  // A successor's extras are exported with the method that learned them (kept on its run record).
  const method = runs.find((r) => r.id === activeRunId)?.method;
  const metrics: Record<string, number> = { epochs_trained: snapshot.epoch, steps_trained: snapshot.step };
  for (const [split, acc] of Object.entries(snapshot.accuracies)) metrics[`${split}_acc`] = acc;
  return {
    model: { id: runtime.model.manifest.id, fingerprint: String(runtime.model.manifest.text_model_sha256 ?? '') },
    context: snapshot.context,
    ...(method ? { method } : {}),
    position: setup.position,
    init: setup.settings.init === 'words' ? { kind: 'words', words: setup.settings.initWords } : { kind: 'random' },
    classNames: setup.classNames,
    training: { ...setup.settings, nCtx: setup.nCtx, csc: setup.csc, position: setup.position },
    metrics,
    nearestTokens: nearest?.lists ?? null,
    created: new Date().toISOString(),
  };
}

export function ExportImport({ runtime, busy }: { runtime: ModelRuntime; busy: boolean }) {
  const { snapshot, importError, importPrompt, importAdapter, imported, importedAdapter } = useTrainStore();
  const input = useRef<HTMLInputElement>(null);
  const exportNow = () => {
    const p = learnedPrompt(runtime);
    if (!p) return;
    let text: string;
    try {
      text = serializePromptFile(p);
    } catch (e) {
      useTrainStore.setState({ importError: `Export failed: ${(e as Error).message}` });
      return;
    }
    const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
    const a = Object.assign(document.createElement('a'), { href: url, download: promptFileName(p) });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };
  return (
    <section className="results-panel export">
      <h3>Export / import the learned prompt</h3>
      <p className="hint">Import also reads a CLAP, LP++, TaskRes or CLIP-Adapter file (exported from the Method panel or the command line) made with this model.</p>
      <div className="button-row">
        <button type="button" data-testid="export" disabled={!snapshot || busy} onClick={exportNow}>
          Export JSON
        </button>
        <button type="button" data-testid="import" disabled={busy} onClick={() => input.current?.click()}>
          Import JSON…
        </button>
        <input
          ref={input}
          hidden
          type="file"
          accept="application/json,.json"
          data-testid="import-input"
          onChange={async (e) => {
            const f = e.target.files?.[0];
            e.target.value = '';
            if (!f) return;
            // Refused by its size before the browser reads it into one string.
            const tooLarge = promptFileSizeProblem(f.size, f.name);
            if (tooLarge) useTrainStore.setState({ importError: tooLarge });
            else {
              const text = await f.text();
              await (isAdapterFile(text) ? importAdapter(text, runtime) : importPrompt(text, runtime));
            }
          }}
        />
      </div>
      {importError && (
        <p className="banner error" role="alert" data-testid="import-error">
          {importError}
        </p>
      )}
      {imported && !importError && (
        <p className="hint" data-testid="imported" data-method={imported.method?.name ?? 'coop'}>
          Imported a prompt {imported.method ? `made by ${METHOD_LABELS[imported.method.name]}, ` : ''}learned on {imported.created.slice(0, 10)} ({imported.classNames.length} classes, M=
          {imported.context.nCtx}, {imported.context.cscClasses ? 'CSC' : 'unified'}
          {imported.context.extras?.length ? `, ${imported.context.extras.length} tensors beside the context` : ''}). Predictions use it
          {imported.method ? ` through ${METHOD_LABELS[imported.method.name]}` : ''}; Train continues from it.
        </p>
      )}
      {importedAdapter && importedAdapter.modelKey === runtime.key && <ImportedAdapterNote imported={importedAdapter} />}
    </section>
  );
}

const pct = (x: number | undefined) => (x === undefined ? '–' : `${(100 * x).toFixed(1)}%`);

function ImportedAdapterNote({ imported }: { imported: NonNullable<ReturnType<typeof useTrainStore.getState>['importedAdapter']> }) {
  const { file, score, images } = imported;
  const madeBy = FEATURE_METHOD_NAMES[file.weights.method];
  const splits = Object.keys(score.accuracies);
  return (
    <div
      className="hint"
      data-testid="imported-adapter"
      data-method={file.weights.method}
      data-accuracies={JSON.stringify(score.accuracies)}
      data-predictions={JSON.stringify(images.map((im, i) => [im.name, score.predictions[i]]))}
    >
      <p>
        Imported a classifier made by {madeBy} ({file.classNames.length} classes{file.created ? `, ${file.created.slice(0, 10)}` : ''}).{' '}
        {splits.length
          ? `On this page's images: ${splits.map((s) => `${s} ${pct(score.accuracies[s])}`).join(', ')}.`
          : "None of this page's images belong to its classes; add images of them to see its predictions."}
        {score.unknown > 0 && ` ${score.unknown} image${score.unknown === 1 ? '' : 's'} of other classes left out.`} Predict uses it too.
      </p>
    </div>
  );
}
