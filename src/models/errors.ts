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
