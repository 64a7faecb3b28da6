import { useState } from 'react';
import { useTrainStore } from '../store/train-store';

/**
 * CoOp §5's interpretation: the vocabulary tokens nearest to each learned vector (Euclidean, in embedding space).
 * Deep prompts also learn tokens at the input of text blocks 1, 2, …: a picker shows each block's beside the input
 * context's (block 0). The other successors' extras are networks, not tokens: their input context is shown.
 */
export function NearestTokens() {
  const { nearest, setup, requestNearest, snapshot } = useTrainStore();
  const [set, setSet] = useState(0);
  const [block, setBlock] = useState(0);
  if (!setup || !snapshot) return null;
  const blocks = nearest?.blocks ?? [];
  const b = blocks.find((x) => x.block === block) ? block : 0;
  const lists = nearest?.lists;
  const s = lists ? Math.min(set, lists.length - 1) : 0;
  const rows = b === 0 ? lists?.[s] : blocks.find((x) => x.block === b)!.lists;
  return (
    <section className="results-panel" data-testid="nearest-tokens">
      <h3>
        Nearest words to the learned vectors{' '}
        {blocks.length > 0 && (
          <select aria-label="Text block" data-testid="nearest-block" value={b} onChange={(e) => setBlock(Number(e.target.value))}>
            <option value={0}>input context (block 0)</option>
            {blocks.map((x) => (
              <option key={x.block} value={x.block}>
                block {x.block}
              </option>
            ))}
          </select>
        )}{' '}
        {lists && lists.length > 1 && b === 0 && (
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
      {rows && (
        <table className="nearest" data-testid="nearest-table" data-block={b}>
          <thead>
            <tr>
              <th>vector</th>
              <th>nearest tokens (distance)</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((nbrs, m) => (
              <tr key={m}>
                <th>{b === 0 ? `[V]${m + 1}` : `block ${b} [V]${m + 1}`}</th>
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
      <p className="hint">
        Learned vectors usually lie far from every real word (CoOp §5), so the distances matter as much as the words.
        {blocks.length > 0 && ' A deeper block\'s tokens replace hidden states, not word embeddings: their nearest words are a rougher reading still.'}
      </p>
    </section>
  );
}
