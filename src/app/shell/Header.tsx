import { AddModelDialog } from './AddModelDialog';
import { EpBadge, TextEngineBadge } from './EpBadge';
import { ModelPicker } from './ModelPicker';

export function Header() {
  return (
    <header className="header">
      <h1>CoOp Playground</h1>
      <div className="header-controls">
        <ModelPicker />
        <EpBadge />
        <TextEngineBadge />
      </div>
      <AddModelDialog />
    </header>
  );
}
