import { useRef } from 'react';
import { formatDuration } from '../../models/sources/transfer';

/**
 * ", about 1 min 20 s left" for a count that goes from 0 to `total` (images encoded, say), from the time the
 * count has taken so far; empty until the first item is done. `key` names the task: a new key starts the clock over.
 */
export function useEta(key: string, done: number, total: number): string {
  const clock = useRef<{ key: string; start: number; from: number } | null>(null);
  const now = performance.now();
  if (!clock.current || clock.current.key !== key || done < clock.current.from) clock.current = { key, start: now, from: done };
  const did = done - clock.current.from;
  const elapsed = (now - clock.current.start) / 1000;
  if (did <= 0 || total <= done || elapsed <= 0) return '';
  return `, about ${formatDuration(((total - done) * elapsed) / did)} left`;
}
