import { useZeroShotStore } from '../store/zero-shot-store';
import { TEMPLATES } from './templates';

const ENSEMBLE = '__ensemble__';

/** One template, or CLIP-style prompt ensembling over all offered templates. */
export function TemplatePicker() {
  const choice = useZeroShotStore((s) => s.template);
  const setTemplate = useZeroShotStore((s) => s.setTemplate);
  const value = choice.kind === 'ensemble' ? ENSEMBLE : choice.template;
  return (
    <div className="field">
      <label htmlFor="template">Prompt</label>
      <select
        id="template"
        data-testid="template"
        value={value}
        onChange={(e) =>
          setTemplate(
            e.target.value === ENSEMBLE
              ? { kind: 'ensemble', templates: TEMPLATES }
              : { kind: 'single', template: e.target.value },
          )
        }
      >
        {TEMPLATES.map((t) => (
          <option key={t} value={t}>
            {t}
          </option>
        ))}
        <option value={ENSEMBLE}>Ensemble of all {TEMPLATES.length} templates</option>
      </select>
      {choice.kind === 'ensemble' && (
        <p className="hint">Each class's feature is the renormalised mean of its normalised features over the templates.</p>
      )}
    </div>
  );
}
