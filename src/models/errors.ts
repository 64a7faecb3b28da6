/** An error about one file of a model folder; `file` is the display path the message starts with. */
export class ModelFileError extends Error {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file} ${detail}`);
    this.name = 'ModelFileError';
  }
}

/** JSON.parse whose error names the file, since the browser's own message does not. */
export function parseJsonFile(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ModelFileError(file, `is not valid JSON: ${(e as Error).message}; replace it with the file as published`);
  }
}

/**
 * A value from a file, for a message: JSON, cut to `max` characters. A file made to hurt can hold a value nested
 * deeper than JSON.stringify's stack or megabytes long; neither may break or flood the message.
 */
export function showValue(v: unknown, max = 80): string {
  let s: string | undefined;
  try {
    s = JSON.stringify(v);
  } catch {
    return Array.isArray(v) ? '(a deeply nested array)' : '(a deeply nested value)';
  }
  if (s === undefined) return String(v);
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
