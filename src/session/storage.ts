/** The browser's storage for this origin: persistence, use and quota, and what a failed save means to a person. */

export interface StorageInfo {
  /** Bytes this origin uses and may use (the browser's estimate), or null where the browser cannot say. */
  usage: number | null;
  quota: number | null;
  /** Whether the browser promised not to evict the data under storage pressure. */
  persisted: boolean | null;
}

/** Asks once for persistent storage (Chromium grants it by engagement, Firefox asks the person). */
export async function requestPersistence(): Promise<boolean | null> {
  const s = typeof navigator !== 'undefined' ? navigator.storage : undefined;
  if (!s?.persist) return null;
  try {
    return (await s.persisted()) || (await s.persist());
  } catch {
    return null;
  }
}

export async function storageInfo(): Promise<StorageInfo> {
  const s = typeof navigator !== 'undefined' ? navigator.storage : undefined;
  const [estimate, persisted] = await Promise.all([s?.estimate?.().catch(() => null) ?? null, s?.persisted?.().catch(() => null) ?? null]);
  return { usage: estimate?.usage ?? null, quota: estimate?.quota ?? null, persisted };
}

export function isQuotaError(e: unknown): boolean {
  const name = (e as { name?: string } | null)?.name ?? '';
  const inner = (e as { inner?: unknown; cause?: unknown } | null)?.cause;
  return name === 'QuotaExceededError' || /quota/i.test((e as Error)?.message ?? '') || (inner !== undefined && isQuotaError(inner));
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

/** The message a failed save shows: over the quota says so plainly; either way, what was saved before is kept. */
export function saveErrorMessage(what: string, e: unknown, info?: StorageInfo): string {
  const kept = 'Everything saved before is kept.';
  if (isQuotaError(e)) {
    const use = info?.usage != null && info.quota != null ? ` (${formatBytes(info.usage)} used of ${formatBytes(info.quota)})` : '';
    return `Could not save ${what}: the browser's storage for this site is full${use}. ${kept} Delete runs or images, or save the project to a file, to free space.`;
  }
  return `Could not save ${what}: ${(e as Error)?.message ?? String(e)}. ${kept}`;
}
