import { useModelStore } from '../store/model-store';

/** Which execution provider runs the encoders; the tooltip says on what, or why not WebGPU. */
export function EpBadge() {
  const ep = useModelStore((s) => s.ep);
  if (!ep) return <span className="badge muted">EP: …</span>;
  return (
    <span className={`badge ep-${ep.ep}`} data-testid="ep-badge" data-ep={ep.ep} title={ep.detail}>
      {ep.ep === 'webgpu' ? 'WebGPU' : 'WASM'}
    </span>
  );
}
