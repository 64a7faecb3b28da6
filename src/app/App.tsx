import { useEffect } from 'react';
import { SECTIONS } from './sections';
import { Header } from './shell/Header';
import { ModelStatus } from './shell/ModelStatus';
import { WorkStatus } from './shell/WorkStatus';
import { useHashSection } from './shell/use-hash-section';
import { useModelStore } from './store/model-store';
import { useSessionStore } from './store/session-store';

export function App() {
  useEffect(() => {
    void useModelStore.getState().init();
    void useSessionStore.getState().restore();
  }, []);
  const [active, setActive] = useHashSection(SECTIONS.map((s) => s.id));
  const section = SECTIONS.find((s) => s.id === active) ?? SECTIONS[0];
  return (
    <div className="app">
      <Header />
      <ModelStatus />
      <WorkStatus />
      <nav className="tabs" role="tablist">
        {SECTIONS.map((s) => (
          <button key={s.id} role="tab" aria-selected={s.id === section.id} className="tab" onClick={() => setActive(s.id)}>
            {s.title}
          </button>
        ))}
      </nav>
      <main className="section" role="tabpanel">
        <section.Component />
      </main>
    </div>
  );
}
