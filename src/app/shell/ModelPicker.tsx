import { useModelStore } from '../store/model-store';

export function ModelPicker() {
  const models = useModelStore((s) => s.models);
  const selected = useModelStore((s) => s.selected);
  const select = useModelStore((s) => s.select);
  return (
    <label className="model-picker">
      <span>Model</span>
      <select
        data-testid="model-picker"
        value={selected ?? ''}
        disabled={models.length === 0}
        onChange={(e) => void select(e.target.value)}
      >
        {models.length === 0 && <option value="">none found</option>}
        {models.map((m) => (
          <option key={m.folder} value={m.folder} title={m.error}>
            {m.error ? `${m.name} (cannot be used)` : m.name}
          </option>
        ))}
      </select>
    </label>
  );
}
