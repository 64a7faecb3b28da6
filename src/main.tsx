import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App';
import { ensureCrossOriginIsolation } from './coi';
import './app/test-hooks';
import './app/styles.css';

// Threads need a cross-origin isolated page: on a host that cannot send the headers, a service worker adds them and
// the page reloads once through it before the app starts (src/coi.ts).
if ((await ensureCrossOriginIsolation()) !== 'reloading') {
  createRoot(document.getElementById('root')!).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
