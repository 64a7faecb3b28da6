import { CSC_WORD_INIT_NOTE } from '../../coop/context-init';
import { epochsForShots } from '../../coop/schedule';
import { optimizerOf } from '../../coop/param-optimizer';
import type { TrainSettings } from '../../coop/settings';
import { useTrainStore } from '../store/train-store';
import { counts } from './class-cards';

/** One line under a control that says what it does. */
function Explain({ id, children }: { id: string; children: React.ReactNode }) {
  return (
    <p className="hint explain" id={id}>
      {children}
    </p>
  );
}

function NumberField({ label, k, step, min, hint, describedBy }: { label: string; k: keyof TrainSettings; step?: number; min?: number; hint?: string; describedBy?: string }) {
  const value = useTrainStore((s) => s.settings[k]) as number;
  const setSettings = useTrainStore((s) => s.setSettings);
  return (
    <label className="setting" title={hint}>
      <span>{label}</span>
      <input
        type="number"
        data-testid={`setting-${k}`}
        aria-describedby={describedBy}
        value={Number.isFinite(value) ? value : ''}
        step={step ?? 'any'}
        min={min}
        onChange={(e) => {
          const v = e.target.valueAsNumber;
          if (Number.isFinite(v)) setSettings({ [k]: v } as Partial<TrainSettings>);
        }}
      />
    </label>
  );
}

export function SettingsPanel({ disabled }: { disabled: boolean }) {
  const { settings, position, holdOut, cards, setSettings, setPosition, setHoldOut } = useTrainStore();
  const shots = cards.length ? Math.min(...cards.map((c) => counts(c).train)) : 0;
  return (
    <fieldset className="settings" disabled={disabled}>
      <legend>Prompt design</legend>
      <label className="setting">
        <span>Context init</span>
        <select data-testid="setting-init" aria-describedby="explain-init" value={settings.init} onChange={(e) => setSettings({ init: e.target.value as TrainSettings['init'] })}>
          <option value="random">random N(0, 0.02²), seeded (paper default)</option>
          <option value="words">from words</option>
        </select>
      </label>
      <Explain id="explain-init">Where the learned words start: random vectors, or the embeddings of a phrase such as "a photo of a".</Explain>
      {settings.init === 'words' ? (
        <label className="setting">
          <span>Init words (M = their token count)</span>
          <input value={settings.initWords} aria-describedby="explain-m" onChange={(e) => setSettings({ initWords: e.target.value })} />
        </label>
      ) : (
        <NumberField label="Context vectors M" k="nCtx" step={1} min={1} describedBy="explain-m" />
      )}
      <Explain id="explain-m">M learned word vectors stand before the class name; more can fit more, and overfit more (paper default 16).</Explain>
      <label className="setting checkbox">
        <input type="checkbox" data-testid="setting-csc" aria-describedby="explain-csc" checked={settings.csc} onChange={(e) => setSettings({ csc: e.target.checked })} />
        <span>Class-specific context (CSC)</span>
      </label>
      <Explain id="explain-csc">Off: one context shared by every class (unified, paper default). On: each class learns its own, which suits fine-grained classes.</Explain>
      {settings.csc && settings.init === 'words' && <p className="hint note">{CSC_WORD_INIT_NOTE}</p>}
      <label className="setting">
        <span>Class token position</span>
        <select data-testid="setting-position" aria-describedby="explain-position" value={position} onChange={(e) => setPosition(e.target.value as typeof position)}>
          <option value="end">end: [V]…[V] name. (paper default)</option>
          <option value="middle">middle: [V]… name [V]….</option>
          <option value="front">front: name [V]…[V].</option>
        </select>
      </label>
      <Explain id="explain-position">Where the class name sits among the learned words.</Explain>
      <details>
        <summary data-testid="settings-more">Optimizer and schedule (the paper's defaults)</summary>
        <label className="setting">
          <span>Optimizer</span>
          <select data-testid="setting-optimizer" aria-describedby="explain-optimizer" value={optimizerOf(settings)} onChange={(e) => setSettings({ optimizer: e.target.value as TrainSettings['optimizer'] })}>
            <option value="sgd">SGD with momentum (CoOp's)</option>
            <option value="adam">Adam (TCP's)</option>
          </select>
        </label>
        <Explain id="explain-optimizer">Adam uses β 0.9 / 0.999 and ignores the momentum below; weight decay is added to the gradient in both.</Explain>
        <NumberField label="Learning rate" k="lr" />
        <NumberField label="Momentum" k="momentum" />
        <NumberField label="Weight decay" k="weightDecay" />
        <NumberField label="Batch size" k="batchSize" step={1} min={1} />
        <NumberField label="Warm-up epochs" k="warmupEpochs" step={1} min={0} />
        <NumberField label="Warm-up lr" k="warmupLr" />
        <label className="setting">
          <span>Epochs</span>
          <span className="inline">
            <select
              data-testid="setting-epochs-mode"
              value={settings.epochs === 'auto' ? 'auto' : 'fixed'}
              onChange={(e) => setSettings({ epochs: e.target.value === 'auto' ? 'auto' : epochsForShots(shots) })}
            >
              <option value="auto">auto by shots ({epochsForShots(shots)} at {shots} shot{shots === 1 ? '' : 's'})</option>
              <option value="fixed">fixed</option>
            </select>
            {settings.epochs !== 'auto' && (
              <input
                type="number"
                data-testid="setting-epochs"
                min={1}
                step={1}
                value={settings.epochs}
                onChange={(e) => Number.isFinite(e.target.valueAsNumber) && setSettings({ epochs: Math.max(1, Math.round(e.target.valueAsNumber)) })}
              />
            )}
          </span>
        </label>
        <NumberField label="Augmented views per image" k="views" step={1} min={1} hint="Encoded once; one view per image is drawn each epoch." />
        <NumberField label="Seed" k="seed" step={1} min={0} />
        <label className="setting" title="Used for classes without their own test images">
          <span>Held-out fraction per class</span>
          <input type="number" data-testid="setting-holdout" min={0} max={0.9} step={0.05} value={holdOut} onChange={(e) => Number.isFinite(e.target.valueAsNumber) && setHoldOut(e.target.valueAsNumber)} />
        </label>
      </details>
    </fieldset>
  );
}
