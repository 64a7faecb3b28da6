import { useRef, useState, type DragEvent } from 'react';
import type { TextDtype, VisionDtype } from '../../models/sources/browser-store';
import { folderFromDrop, folderFromFileList, folderFromHandle, type FolderSource } from '../../models/sources/folder';
import { DEFAULT_ENDPOINT } from '../../models/sources/hub';
import { formatDuration, formatMB } from '../../models/sources/transfer';
import { useAddModelStore } from '../store/add-model-store';
import { useModelStore } from '../store/model-store';
import { ProgressBar } from './ProgressBar';

type PickerWindow = Window & { showDirectoryPicker?: (o?: { id?: string; mode?: 'read' }) => Promise<FileSystemDirectoryHandle> };

/** "Add a model…": a hub repo id or a folder from disk, copied into the browser's store with progress. */
export function AddModelDialog() {
  const { open, status, what, progress, error, resumable } = useAddModelStore();
  const { show, addFromHub, addFromFolder, cancel, resume, resumeStored } = useAddModelStore.getState();
  const stored = useModelStore((s) => s.stored);
  const storeError = useModelStore((s) => s.storeError);
  const removeStored = useModelStore((s) => s.removeStored);
  const [repo, setRepo] = useState('');
  const [revision, setRevision] = useState('');
  const [endpoint, setEndpoint] = useState(DEFAULT_ENDPOINT);
  const [vision, setVision] = useState<VisionDtype>('fp32');
  const [text, setText] = useState<TextDtype>('fp32');
  const [dragging, setDragging] = useState(false);
  const [pickError, setPickError] = useState<string | null>(null);
  const dirInput = useRef<HTMLInputElement>(null);
  const busy = status === 'checking' || status === 'copying';
  if (!open) return null;

  const addFolder = (folder: FolderSource) => {
    setPickError(null);
    void addFromFolder(folder, vision, text);
  };
  const pickFolder = async () => {
    const w = window as PickerWindow;
    if (!w.showDirectoryPicker) return dirInput.current?.click();
    try {
      addFolder(await folderFromHandle(await w.showDirectoryPicker({ id: 'coop-model', mode: 'read' })));
    } catch (e) {
      if ((e as DOMException).name !== 'AbortError') setPickError((e as Error).message);
    }
  };
  const onDrop = async (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    const folder = await folderFromDrop(e.dataTransfer.items).catch((err: Error) => (setPickError(err.message), null));
    if (folder) addFolder(folder);
    else setPickError('Drop the model folder itself (the one holding config.json and onnx/), not single files.');
  };

  return (
    <div className="dialog-backdrop" onClick={() => !busy && show(false)}>
      <div
        className="dialog add-model"
        role="dialog"
        aria-modal="true"
        aria-label="Add a model"
        data-testid="add-model"
        onClick={(e) => e.stopPropagation()}
        onKeyDown={(e) => e.key === 'Escape' && !busy && show(false)}
      >
        <h2>Add a model</h2>
        {storeError && <p className="banner error">{storeError}</p>}
        <form
          className="add-hub"
          onSubmit={(e) => {
            e.preventDefault();
            void addFromHub({ repo, revision, endpoint }, vision, text);
          }}
        >
          <label>
            Hugging Face repo id
            <input data-testid="add-repo" autoFocus value={repo} placeholder="Xenova/clip-vit-base-patch32" onChange={(e) => setRepo(e.target.value)} required disabled={busy} />
          </label>
          <label>
            Revision
            <input data-testid="add-revision" value={revision} placeholder="main" onChange={(e) => setRevision(e.target.value)} disabled={busy} />
          </label>
          <label>
            Endpoint
            <input data-testid="add-endpoint" value={endpoint} onChange={(e) => setEndpoint(e.target.value)} disabled={busy} />
          </label>
          <label>
            Image tower
            <select data-testid="add-vision-dtype" value={vision} onChange={(e) => setVision(e.target.value as VisionDtype)} disabled={busy}>
              <option value="fp32">fp32 (352 MB for ViT-B/32)</option>
              <option value="fp16">fp16 (176 MB)</option>
              <option value="quantized">quantized (89 MB)</option>
            </select>
          </label>
          <label>
            Text weights
            <select data-testid="add-text-dtype" value={text} onChange={(e) => setText(e.target.value as TextDtype)} disabled={busy}>
              <option value="fp32">fp32 (254 MB)</option>
              <option value="fp16">fp16 (127 MB, computed in fp32)</option>
            </select>
          </label>
          <button type="submit" data-testid="add-download" disabled={busy || !repo.trim()}>
            Download
          </button>
        </form>
        <div
          className={dragging ? 'add-folder dragging' : 'add-folder'}
          data-testid="add-folder-drop"
          onDragOver={(e) => {
            e.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={(e) => void onDrop(e)}
        >
          or a folder from disk in the same layout:{' '}
          <button type="button" data-testid="add-folder" onClick={() => void pickFolder()} disabled={busy}>
            Choose folder…
          </button>{' '}
          or drop it here
          <input
            ref={dirInput}
            type="file"
            hidden
            data-testid="add-folder-input"
            {...{ webkitdirectory: '', directory: '' }}
            onChange={(e) => {
              const files = e.target.files;
              if (files?.length) {
                try {
                  addFolder(folderFromFileList(files));
                } catch (err) {
                  setPickError((err as Error).message);
                }
              }
              e.target.value = '';
            }}
          />
        </div>
        {pickError && <p className="banner error">{pickError}</p>}
        <AddProgress what={what} status={status} progress={progress} />
        {error && (
          <div className="banner error" role="alert" data-testid="add-error">
            <p>{error}</p>
            {resumable && (
              <button data-testid="add-resume" onClick={() => void resume()}>
                Resume
              </button>
            )}
          </div>
        )}
        <div className="dialog-actions">
          {busy ? (
            <button data-testid="add-cancel" onClick={cancel}>
              Cancel
            </button>
          ) : (
            <button onClick={() => show(false)}>Close</button>
          )}
        </div>
        {stored.length > 0 && (
          <table className="stored-models" data-testid="stored-models">
            <caption>Stored in this browser</caption>
            <tbody>
              {stored.map((m) => (
                <tr key={m.key} data-testid="stored-model" data-key={m.key} data-complete={m.complete}>
                  <td>{m.name}</td>
                  <td>{m.origin.kind === 'hub' ? `${m.origin.repo}@${m.origin.revision}` : 'folder'}</td>
                  <td>
                    text {m.textDtype}, image {m.visionDtype}
                  </td>
                  <td data-testid="stored-size">{formatMB(m.bytes)}{m.complete ? '' : ' (incomplete)'}</td>
                  <td>
                    {!m.complete && (
                      <button data-testid="stored-resume" disabled={busy} title="Fetch the files that have not arrived; those stored are kept" onClick={() => void resumeStored(m)}>
                        Resume
                      </button>
                    )}{' '}
                    <button data-testid="stored-remove" disabled={busy} onClick={() => void removeStored(m.key)}>
                      Remove
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </div>
  );
}

function AddProgress({ what, status, progress }: Pick<ReturnType<typeof useAddModelStore.getState>, 'what' | 'status' | 'progress'>) {
  if (status === 'checking') return <ProgressBar value={0} max={0} label={`Checking ${what}…`} />;
  if (!progress || status === 'idle') return null;
  const rate = progress.rate ? `, ${formatMB(progress.rate)}/s` : '';
  const eta = progress.eta !== null && status === 'copying' ? `, ${formatDuration(progress.eta)} left` : '';
  return (
    <div className="add-progress" data-testid="add-progress" data-loaded={progress.loaded} data-total={progress.total}>
      <ProgressBar value={progress.loaded} max={progress.total} label={`${what}: ${formatMB(progress.loaded)} of ${formatMB(progress.total)}${rate}${eta}`} />
      {progress.files.map((f) => (
        <div key={f.path} className="add-file" data-testid="add-file" data-path={f.path} data-loaded={f.loaded} data-total={f.total}>
          <ProgressBar value={f.loaded} max={f.total} label={`${f.path}: ${formatMB(f.loaded)} of ${formatMB(f.total)}${f.done ? ' ✓' : ''}`} />
        </div>
      ))}
    </div>
  );
}
