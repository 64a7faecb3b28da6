import { formatPercent } from '../shell/format';
import type { ImageResult } from './results';

function ResultCard({ item, encoded, top, correct }: ImageResult) {
  // 'unscored': the image is encoded but there is no valid class list to score it against.
  const state = item.error ? 'error' : top.length ? 'done' : encoded ? 'unscored' : 'pending';
  return (
    <figure
      className={`card ${state}${correct === false ? ' wrong' : ''}`}
      data-testid="result"
      data-name={item.name}
      data-state={state}
      data-top1={top[0]?.name ?? ''}
    >
      <div className="thumb">{!item.error && <img src={item.url} alt={item.name} loading="lazy" />}</div>
      <figcaption>
        <div className="card-name" title={item.name}>
          {item.name}
        </div>
        {item.error && (
          <p className="card-error" data-testid="image-error">
            {item.error}
          </p>
        )}
        {state === 'pending' && <p className="hint">encoding…</p>}
        {state === 'unscored' && <p className="hint">waiting for a valid class list</p>}
        {top.map(({ name, p }, i) => (
          <div key={name} className={i === 0 ? 'score top' : 'score'}>
            <span className="score-bar" style={{ width: formatPercent(p) }} />
            <span className="score-name">{name}</span>
            <span className="score-p">{formatPercent(p)}</span>
          </div>
        ))}
        {item.label !== undefined && (
          <p className={correct ? 'label ok' : 'label'}>
            {correct === undefined ? `label: ${item.label}` : `${correct ? '✓' : '✗'} label: ${item.label}`}
          </p>
        )}
      </figcaption>
    </figure>
  );
}

export function ResultsGrid({ results }: { results: readonly ImageResult[] }) {
  return (
    <div className="grid">
      {results.map((r) => (
        <ResultCard key={r.item.id} {...r} />
      ))}
    </div>
  );
}
