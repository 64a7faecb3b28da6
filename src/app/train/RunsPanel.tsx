import { runPrompt } from '../../session/project-file';
import { promptFileName, serializePromptFile } from '../../coop/prompt-file';
import { useTrainStore } from '../store/train-store';
import { download } from './download';

const pct = (x: number | undefined) => (x === undefined ? '–' : `${(100 * x).toFixed(1)}%`);

/**
 * Every Train makes a run: the list shows each with its final accuracy per split. Show puts its curves and
 * results on the page and predicts with it; the checkbox draws its curves over the shown run's.
 */
export function RunsPanel({ busy }: { busy: boolean }) {
  const { runs, activeRunId, overlay, renameRun, deleteRun, showRun, toggleOverlay, extraSets } = useTrainStore();
  if (runs.length === 0) return null;
  const known = ['train', 'test', ...extraSets.map((e) => e.name)];
  // Base-to-new runs score `${split}/base` and `${split}/new` (src/coop/base-to-new.ts): their columns follow.
  const more = [...new Set(runs.flatMap((r) => Object.keys(r.view?.accuracies ?? {})))].filter((k) => !known.includes(k));
  const splits = [...known, ...more];
  return (
    <section className="results-panel runs" data-testid="runs">
      <h3>Runs</h3>
      <table className="comparison">
        <thead>
          <tr>
            <th>overlay</th>
            <th>name</th>
            <th>epochs</th>
            {splits.map((s) => (
              <th key={s}>{s}</th>
            ))}
            <th />
          </tr>
        </thead>
        <tbody>
          {runs.map((r) => {
            const active = r.id === activeRunId;
            const prompt = runPrompt(r);
            return (
              <tr key={r.id} data-testid="run" data-run-id={r.id} data-active={active} data-status={r.status} className={active ? 'active' : ''}>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`Draw ${r.name} on the charts`}
                    data-testid="run-overlay"
                    disabled={active}
                    checked={active || overlay.includes(r.id)}
                    onChange={() => toggleOverlay(r.id)}
                  />
                </td>
                <th>
                  <input aria-label="Run name" data-testid="run-name" value={r.name} onChange={(e) => renameRun(r.id, e.target.value)} />
                  <div className="hint">
                    {r.status}
                    {r.checkpoint && r.status !== 'done' && !r.imported ? `, checkpoint at epoch ${r.checkpoint.epoch}` : ''}
                  </div>
                </th>
                <td>{r.view ? `${r.view.epoch} / ${r.view.maxEpochs || '–'}` : '–'}</td>
                {splits.map((s) => (
                  <td key={s} data-split={s} data-value={r.view?.accuracies[s] ?? ''}>
                    {pct(r.view?.accuracies[s])}
                  </td>
                ))}
                <td className="button-row">
                  <button type="button" data-testid="run-show" disabled={busy || active} onClick={() => showRun(r.id)} title="Show its curves and results, and predict with it">
                    Show
                  </button>
                  <button
                    type="button"
                    data-testid="run-export"
                    disabled={!prompt}
                    onClick={() => prompt && download(serializePromptFile(prompt), promptFileName(prompt), 'application/json')}
                  >
                    Export
                  </button>
                  <button type="button" data-testid="run-delete" disabled={busy && active} onClick={() => window.confirm(`Delete ${r.name}?`) && deleteRun(r.id)}>
                    Delete
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
