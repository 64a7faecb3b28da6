import { useState } from 'react';
import { useTrainStore } from '../store/train-store';

/** CoOp §5's interpretation: the vocabulary tokens nearest to each learned vector (Euclidean, in embedding space). */
export function NearestTokens() {
  const { nearest, setup, requestNearest, snapshot } = useTrainStore();
  const [set, setSet] = useState(0);
  if (!setup || !snapshot) return null;
  const lists = nearest?.lists;
  const s = lists ? Math.min(set, lists.length - 1) : 0;
  return (
    <section className="results-panel" data-testid="nearest-tokens">
      <h3>
        Nearest words to the learned vectors{' '}
        {lists && lists.length > 1 && (
          <select aria-label="Class" value={s} onChange={(e) => setSet(Number(e.target.value))}>
            {setup.classNames.map((n, i) => (
              <option key={n} value={i}>
                {n}
              </option>
            ))}
          </select>
        )}{' '}
        <button type="button" onClick={requestNearest}>
          {lists ? 'Refresh' : 'Compute'}
        </button>
      </h3>
      {lists && (
        <table className="nearest">
          <thead>
            <tr>
              <th>vector</th>
              <th>nearest tokens (distance)</th>
            </tr>
          </thead>
          <tbody>
            {lists[s].map((nbrs, m) => (
              <tr key={m}>
                <th>[V]{m + 1}</th>
                <td>
                  {nbrs.map((n) => (
                    <span key={n.id} className="token" title={`id ${n.id}`}>
                      {n.token} <small>({n.distance.toFixed(2)})</small>
                    </span>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p className="hint">Learned vectors usually lie far from every real word (CoOp §5), so the distances matter as much as the words.</p>
    </section>
  );
}
