import { useEffect, useRef } from 'react';
import { formatMB } from '../../models/sources/transfer';
import { useAddModelStore } from '../store/add-model-store';
import { STORED_PREFIX, useModelStore } from '../store/model-store';

/** The bundled models and those stored in this browser, "Add a model…", and Remove for a stored one. */
export function ModelPicker() {
  const models = useModelStore((s) => s.models);
  const stored = useModelStore((s) => s.stored);
  const selected = useModelStore((s) => s.selected);
  const select = useModelStore((s) => s.select);
  const removeStored = useModelStore((s) => s.removeStored);
  const showAdd = useAddModelStore((s) => s.show);
  const dialogOpen = useAddModelStore((s) => s.open);
  const opener = useRef<HTMLButtonElement>(null);
  const wasOpen = useRef(false);
  // Keyboard users land back where they were when the dialog closes.
  useEffect(() => {
    if (wasOpen.current && !dialogOpen) opener.current?.focus();
    wasOpen.current = dialogOpen;
  }, [dialogOpen]);
  const selectedStored = selected?.startsWith(STORED_PREFIX) ? stored.find((m) => STORED_PREFIX + m.key === selected) : undefined;
  const empty = models.length === 0 && stored.length === 0;
  return (
    <div className="model-picker">
      <label>
        <span>Model</span>
        <select data-testid="model-picker" value={selected ?? ''} disabled={empty} onChange={(e) => void select(e.target.value)}>
          {empty && <option value="">none found</option>}
          {selected === null && !empty && <option value="">choose…</option>}
          {models.map((m) => (
            <option key={m.folder} value={m.folder} title={m.error}>
              {m.error ? `${m.name} (cannot be used)` : m.name}
            </option>
          ))}
          {stored.map((m) => (
            <option key={m.key} value={STORED_PREFIX + m.key} disabled={!m.complete} data-testid="stored-option">
              {`${m.name} (${m.visionDtype} image, ${m.textDtype} text; stored, ${formatMB(m.bytes)}${m.complete ? '' : ', incomplete'})`}
            </option>
          ))}
        </select>
      </label>
      <button ref={opener} data-testid="add-model-open" onClick={() => showAdd(true)}>
        Add a model…
      </button>
      {selectedStored && (
        <button data-testid="remove-model" title={`Delete ${formatMB(selectedStored.bytes)} from this browser's storage`} onClick={() => void removeStored(selectedStored.key)}>
          Remove
        </button>
      )}
    </div>
  );
}
