import { useRef, useState } from 'react';
import { useTrainStore } from '../store/train-store';
import { openDatasetFiles } from './open-dataset';

/** "Open dataset…": shots, seed and a folder pick; the cards are replaced by the dataset's official subset. */
export function OpenDataset({ disabled }: { disabled: boolean }) {
  const [open, setOpen] = useState(false);
  const [shots, setShots] = useState(16);
  const [seed, setSeed] = useState(1);
  const [status, setStatus] = useState<{ ok: boolean; text: string } | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const track = useTrainStore((s) => s.track);

  const onFiles = async (list: FileList | null) => {
    if (!list || !list.length) return;
    setStatus(null);
    try {
      const d = await track('Opening the dataset', openDatasetFiles([...list], shots, seed).then((d) => {
        useTrainStore.getState().loadCards(d.cards, d.extraSets);
        return d;
      }));
      setStatus({ ok: true, text: [d.summary, ...d.notes].join('. ') });
      setOpen(false);
    } catch (e) {
      setStatus({ ok: false, text: (e as Error).message });
    } finally {
      if (input.current) input.current.value = '';
    }
  };

  const int = (v: string, min: number) => Math.max(min, Math.floor(Number(v) || min));
  return (
    <>
      <button type="button" data-testid="open-dataset" disabled={disabled} onClick={() => setOpen((o) => !o)} aria-expanded={open}>
        Open dataset…
      </button>
      {open && (
        <div className="open-dataset" data-testid="open-dataset-form">
          <label>
            shots <input type="number" min={1} value={shots} onChange={(e) => setShots(int(e.target.value, 1))} data-testid="open-dataset-shots" />
          </label>
          <label>
            seed <input type="number" min={0} value={seed} onChange={(e) => setSeed(int(e.target.value, 0))} data-testid="open-dataset-seed" />
          </label>
          <button type="button" onClick={() => input.current?.click()} data-testid="open-dataset-choose">
            Choose folder…
          </button>
          <input
            ref={input}
            type="file"
            hidden
            multiple
            aria-label="dataset folder"
            data-testid="open-dataset-input"
            {...{ webkitdirectory: '', directory: '' }}
            onChange={(e) => void onFiles(e.target.files)}
          />
          <span className="muted">a folder in CoOp&apos;s layout (split_zhou_*.json, FGVC&apos;s or ImageNet&apos;s files) or train/&lt;class&gt;/ images</span>
        </div>
      )}
      {status && (
        <p className={status.ok ? 'muted' : 'banner error'} data-testid="open-dataset-status" role={status.ok ? 'status' : 'alert'}>
          {status.text}
        </p>
      )}
    </>
  );
}
