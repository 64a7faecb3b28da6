import { useZeroShotStore } from '../store/zero-shot-store';

export function ClassInput() {
  const classText = useZeroShotStore((s) => s.classText);
  const setClassText = useZeroShotStore((s) => s.setClassText);
  const text = useZeroShotStore((s) => s.text);
  return (
    <div className="field">
      <label htmlFor="classes">Class names, one per line</label>
      <textarea
        id="classes"
        data-testid="classes"
        rows={8}
        spellCheck={false}
        value={classText}
        onChange={(e) => setClassText(e.target.value)}
      />
      {text.problems.length > 0 && (
        <ul className="problems" role="alert" data-testid="class-problems">
          {text.problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      )}
    </div>
  );
}
