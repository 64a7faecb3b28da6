import { useRef, useState, type DragEvent } from 'react';
import { useZeroShotStore } from '../store/zero-shot-store';

/** Drag-and-drop target with a file input beside it; every dropped file is tried (non-images get an error). */
export function DropZone() {
  const addImages = useZeroShotStore((s) => s.addImages);
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const add = (files: FileList | null) => {
    if (files?.length) addImages([...files].map((f) => ({ blob: f, name: f.name })));
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    add(e.dataTransfer.files);
  };
  return (
    <div
      className={over ? 'dropzone over' : 'dropzone'}
      data-testid="dropzone"
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={onDrop}
    >
      <p>Drop images here, or</p>
      <button type="button" onClick={() => input.current?.click()}>
        Choose images…
      </button>
      <input
        ref={input}
        data-testid="file-input"
        type="file"
        accept="image/*"
        multiple
        hidden
        onChange={(e) => {
          add(e.target.files);
          e.target.value = '';
        }}
      />
    </div>
  );
}
