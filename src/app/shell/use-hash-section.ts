import { useEffect, useState } from 'react';
import { hashSection, withSection } from '../../session/url-hash';

/**
 * The active section from the URL hash (#zero-shot), so a section can be linked and reloaded. The hash may carry
 * the Train page's settings after the section (src/session/url-hash.ts); switching sections keeps them.
 */
export function useHashSection(ids: readonly string[]): [string, (id: string) => void] {
  const read = () => {
    const id = hashSection(location.hash);
    return ids.includes(id) ? id : ids[0];
  };
  const [active, setActive] = useState(read);
  useEffect(() => {
    const onHash = () => setActive(read());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  });
  return [active, (id) => (location.hash = withSection(location.hash, id))];
}
