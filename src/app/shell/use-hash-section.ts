import { useEffect, useState } from 'react';

/** The active section from the URL hash (#zero-shot), so a section can be linked and reloaded. */
export function useHashSection(ids: readonly string[]): [string, (id: string) => void] {
  const read = () => {
    const id = location.hash.slice(1);
    return ids.includes(id) ? id : ids[0];
  };
  const [active, setActive] = useState(read);
  useEffect(() => {
    const onHash = () => setActive(read());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  });
  return [active, (id) => (location.hash = id)];
}
