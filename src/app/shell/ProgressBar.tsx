interface Props {
  value: number;
  /** 0 or less: indeterminate. */
  max: number;
  label: string;
}

export function ProgressBar({ value, max, label }: Props) {
  const pct = max > 0 ? Math.min(100, (100 * value) / max) : null;
  return (
    <div className="progress" role="progressbar" aria-label={label} aria-valuenow={pct ?? undefined} aria-valuemin={0} aria-valuemax={100}>
      <div className={pct === null ? 'progress-fill indeterminate' : 'progress-fill'} style={pct === null ? undefined : { width: `${pct}%` }} />
      <span className="progress-label">{label}</span>
    </div>
  );
}
