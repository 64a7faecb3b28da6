import { useRef } from 'react';
import { formatBytes } from '../../session/storage';
import { useSessionStore } from '../store/session-store';
import { useTrainStore } from '../store/train-store';
import { download } from './download';

/** Save project / Open project / Clear all, what the session uses of the browser's storage, and save problems. */
export function SessionPanel({ busy }: { busy: boolean }) {
  const s = useSessionStore();
  // A project saved while the demo or a drop is still arriving would miss it: wait, and say why.
  const loading = useTrainStore((t) => t.loading);
  const input = useRef<HTMLInputElement>(null);
  const save = async () => {
    const out = await s.saveProject();
    if (out) download(out.bytes as Uint8Array<ArrayBuffer>, out.name, 'application/zip');
  };
  const clear = () => {
    if (window.confirm('Clear all: delete every class, image and run kept in this browser? Save the project first to keep a copy.')) void s.clearAll();
  };
  const st = s.storage;
  return (
    <section className="session-panel" data-testid="session" data-restored={s.restored} data-saved-checkpoint={s.savedCheckpoint ? `${s.savedCheckpoint.runId}:${s.savedCheckpoint.epoch}` : ''} data-last-saved={s.lastSavedAt ?? ''} data-restore-ms={s.restoreMs === null ? '' : Math.round(s.restoreMs)}>
      <div className="button-row">
        <button
          type="button"
          data-testid="save-project"
          disabled={busy || !!s.projectBusy || loading.length > 0}
          title={loading.length ? `Available once ${loading.join(', ').toLowerCase()} is done` : undefined}
          onClick={() => void save()}
        >
          Save project
        </button>
        <button type="button" data-testid="open-project" disabled={busy || !!s.projectBusy} onClick={() => input.current?.click()}>
          Open project…
        </button>
        <input
          ref={input}
          hidden
          type="file"
          accept=".zip,application/zip"
          data-testid="open-project-input"
          onChange={(e) => {
            const f = e.target.files?.[0];
            e.target.value = '';
            // Asked in the browser's own dialog, as Clear all is.
            if (f) void s.openProject(f, (message) => window.confirm(message));
          }}
        />
        <button type="button" data-testid="clear-all" disabled={busy || !!s.projectBusy} onClick={clear}>
          Clear all
        </button>
      </div>
      <p className="hint" data-testid="storage">
        {s.saving ? 'Saving… ' : s.lastSavedAt ? 'Saved in this browser. ' : ''}
        {st?.usage != null && st.quota != null ? `Storage: ${formatBytes(st.usage)} used, ${formatBytes(Math.max(0, st.quota - st.usage))} free` : ''}
        {st?.persisted === false ? ' (the browser may clear it when space runs low)' : st?.persisted ? ' (persistent)' : ''}
      </p>
      {s.projectBusy && <p className="hint">{s.projectBusy}…</p>}
      {s.projectMessage && !s.projectError && (
        <p className="hint" data-testid="project-message">
          {s.projectMessage}
        </p>
      )}
      {s.projectError && (
        <p className="banner error" role="alert" data-testid="project-error">
          {s.projectError}
        </p>
      )}
      {s.saveError && (
        <p className="banner error" role="alert" data-testid="save-error">
          {s.saveError}
        </p>
      )}
      {s.problems.length > 0 && (
        <div className="banner error" data-testid="restore-problems">
          <p>Some saved records could not be read and were skipped; the rest of the session is loaded:</p>
          <ul>
            {s.problems.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}
