import { AddModelDialog } from './AddModelDialog';
import { ModelPicker } from './ModelPicker';

export function Header() {
  return (
    <header className="header">
      <h1>CoOp Playground</h1>
      <div className="header-controls">
        <ModelPicker />
      </div>
      <AddModelDialog />
    </header>
  );
}
