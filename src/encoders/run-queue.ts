/**
 * Serialises ORT runs: a session must not run twice at once, and on a shared GPU device
 * interleaved runs only compete for the same queue anyway.
 */
let tail: Promise<unknown> = Promise.resolve();

export function enqueueRun<T>(job: () => Promise<T>): Promise<T> {
  const result = tail.then(job, job);
  tail = result.catch(() => undefined);
  return result;
}
