import { useEffect, useState } from 'react';
import { fetchSampleIndex, loadSampleSplit, type SampleIndex } from '../samples/samples';
import { useZeroShotStore } from '../store/zero-shot-store';

/** Offers the labelled demo set in public/samples/, when the app ships one. */
export function SamplePicker() {
  const [index, setIndex] = useState<SampleIndex | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const { addImages, clearImages, setClassText } = useZeroShotStore();
  useEffect(() => {
    fetchSampleIndex().then(setIndex, (e: Error) => setError(e.message));
  }, []);
  if (error) return <p className="problems">{error}</p>;
  if (!index) return null;
  const load = async (split: string) => {
    setBusy(true);
    setError(null);
    try {
      const files = await loadSampleSplit(index, split);
      clearImages();
      setClassText(index.classes.join('\n'));
      addImages(files);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="field">
      <label>Demo set{index.name ? `: ${index.name}` : ''}</label>
      {index.description && <p className="hint">{index.description}</p>}
      <div className="button-row">
        {Object.entries(index.splits).map(([split, items]) => (
          <button key={split} data-testid={`sample-${split}`} disabled={busy} onClick={() => void load(split)}>
            {split} ({items.length})
          </button>
        ))}
      </div>
    </div>
  );
}
