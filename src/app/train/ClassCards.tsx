import { useRef, useState, type ClipboardEvent, type DragEvent } from 'react';
import { useTrainStore } from '../store/train-store';
import { counts, type ClassCard as Card, type ImageSplit } from './class-cards';
import { filesFromClipboard, filesFromDataTransfer } from './drop';

/** How many thumbnails a card's strip shows before "all N". */
export const STRIP = 7;

function Thumbs({ card, split, all }: { card: Card; split: ImageSplit; all: boolean }) {
  const deleteImage = useTrainStore((s) => s.deleteImage);
  const images = card.images.filter((i) => i.split === split);
  if (images.length === 0) return null;
  // The strip keeps unusable files in view first: they are what a person has to act on.
  const shown = all ? images : [...images.filter((i) => i.error), ...images.filter((i) => !i.error)].slice(0, STRIP);
  return (
    <ul className={all ? 'thumbs all' : 'thumbs strip'} aria-label={`${card.name} ${split === 'train' ? 'training' : 'test'} images`}>
      {shown.map((img) => (
        <li key={img.id} className={img.error ? 'thumb-item broken' : 'thumb-item'} title={img.error ?? img.name} data-testid="thumb">
          {img.url && <img src={img.url} alt={img.name} loading="lazy" />}
          <button type="button" className="thumb-delete" aria-label={`Delete ${img.name}`} onClick={() => deleteImage(img.id)}>
            ×
          </button>
        </li>
      ))}
    </ul>
  );
}

function DropArea({ card, split, disabled, children }: { card: Card; split: ImageSplit; disabled: boolean; children?: React.ReactNode }) {
  const addFiles = useTrainStore((s) => s.addFiles);
  const track = useTrainStore((s) => s.track);
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const onDrop = async (e: DragEvent) => {
    e.preventDefault();
    e.stopPropagation();
    setOver(false);
    if (disabled) return;
    // A dropped folder takes a while to walk: Train pressed meanwhile waits for it.
    await track(
      'Reading the dropped files',
      filesFromDataTransfer(e.dataTransfer).then((files) => files.length && addFiles(card.id, files, split)),
    );
  };
  const onPaste = (e: ClipboardEvent) => {
    const files = filesFromClipboard(e.clipboardData);
    if (files.length && !disabled) {
      e.preventDefault();
      addFiles(card.id, files, split);
    }
  };
  return (
    <div
      className={over ? 'card-drop over' : 'card-drop'}
      tabIndex={0}
      role="group"
      aria-label={`${split === 'train' ? 'Training' : 'Test'} images of ${card.name || 'this class'}: drop or paste here`}
      data-testid={`drop-${split}`}
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => void onDrop(e)}
      onPaste={onPaste}
    >
      {children}
      <div className="card-actions">
        <button type="button" disabled={disabled} aria-label={`Add ${split === 'train' ? 'training' : 'test'} images to ${card.name || 'this class'}`} onClick={() => input.current?.click()}>
          Add…
        </button>
        <span className="hint">{split === 'train' ? 'or drop, paste here' : 'or drop, paste test images (optional)'}</span>
      </div>
      <input
        ref={input}
        type="file"
        accept="image/*"
        multiple
        hidden
        data-testid={`file-input-${split}`}
        onChange={(e) => {
          const files = [...(e.target.files ?? [])].map((f) => ({ blob: f as Blob, name: f.name }));
          if (files.length) addFiles(card.id, files, split);
          e.target.value = '';
        }}
      />
    </div>
  );
}

/** Base-to-new (src/coop/base-to-new.ts): the per-class "new" mark, off for class-specific context. */
function NewToggle({ card, disabled }: { card: Card; disabled: boolean }) {
  const setClassNew = useTrainStore((s) => s.setClassNew);
  const csc = useTrainStore((s) => s.settings.csc);
  const why = csc
    ? 'Class-specific context (CSC) learns one context per trained class and has none for an unseen class: turn CSC off to mark classes new.'
    : 'A new class is left out of training; its test images are scored with the learned unified context (Tip-Adapter: zero-shot CLIP) among the new classes. The results then show base, new and their harmonic mean.';
  return (
    <label className="new-toggle" title={why}>
      <input type="checkbox" checked={!!card.isNew} disabled={disabled || csc} data-testid="class-new" onChange={(e) => setClassNew(card.id, e.target.checked)} /> new
      {csc && card.isNew && <span className="hint"> (CSC is on: clear this or turn CSC off)</span>}
    </label>
  );
}

export function ClassCardView({ card, disabled }: { card: Card; disabled: boolean }) {
  const { renameClass, deleteClass } = useTrainStore();
  const [allTrain, setAllTrain] = useState(false);
  const [showTest, setShowTest] = useState(false);
  const c = counts(card);
  const nTrain = card.images.filter((i) => i.split === 'train').length;
  const nTest = card.images.filter((i) => i.split === 'test').length;
  const testId = `test-images-${card.id}`;
  return (
    <article className={card.isNew ? 'class-card is-new' : 'class-card'} data-testid="class-card" data-name={card.name} data-new={card.isNew ? 'true' : undefined}>
      <header>
        <input
          aria-label="Class name"
          value={card.name}
          disabled={disabled}
          onChange={(e) => renameClass(card.id, e.target.value)}
          placeholder="class name"
        />
        <button type="button" className="icon" aria-label={`Delete class ${card.name}`} title={`Delete class ${card.name}`} disabled={disabled} onClick={() => deleteClass(card.id)}>
          ×
        </button>
      </header>
      <DropArea card={card} split="train" disabled={disabled}>
        <div className="card-meta">
          <p className="counts" data-testid="counts" data-train={c.train} data-test={c.test}>
            {c.train} training · {c.test} test{c.broken ? ` · ${c.broken} unusable` : ''}
          </p>
          <NewToggle card={card} disabled={disabled} />
        </div>
        <Thumbs card={card} split="train" all={allTrain} />
      </DropArea>
      <div className="card-toggles">
        {nTrain > STRIP && (
          <button type="button" className="link" aria-expanded={allTrain} data-testid="thumbs-all" onClick={() => setAllTrain(!allTrain)}>
            {allTrain ? 'Show fewer' : `Show all ${nTrain}`}
          </button>
        )}
        <button type="button" className="link" aria-expanded={showTest} aria-controls={testId} data-testid="test-toggle" onClick={() => setShowTest(!showTest)}>
          {showTest ? 'Hide test images' : `Test images (${nTest})`}
        </button>
      </div>
      {/* Kept in the page when folded, so a drop or paste on it (and the tests) still reach it. */}
      <div id={testId} hidden={!showTest}>
        <DropArea card={card} split="test" disabled={disabled}>
          <Thumbs card={card} split="test" all />
        </DropArea>
      </div>
    </article>
  );
}

export function ClassCards({ disabled }: { disabled: boolean }) {
  const cards = useTrainStore((s) => s.cards);
  const addClass = useTrainStore((s) => s.addClass);
  const csc = useTrainStore((s) => s.settings.csc);
  const nNew = cards.filter((c) => c.isNew).length;
  return (
    <>
    {nNew > 0 && (
      <p className="hint" data-testid="base-to-new-note">
        Base-to-new: {cards.length - nNew} base class{cards.length - nNew === 1 ? '' : 'es'} train; {nNew} new class{nNew === 1 ? ' is' : 'es are'} left out of training and scored with the learned context.
        {csc && ' Class-specific context has no context for new classes: turn CSC off to train.'}
      </p>
    )}
    <div className="class-cards">
      {cards.map((c) => (
        <ClassCardView key={c.id} card={c} disabled={disabled} />
      ))}
      <button type="button" className="add-class" disabled={disabled} onClick={() => addClass()} data-testid="add-class">
        + Add class
      </button>
    </div>
    </>
  );
}
