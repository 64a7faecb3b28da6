export interface ParsedClasses {
  names: string[];
  /** Readable problems; when non-empty, the names are not used. */
  problems: string[];
}

/** One class per line; blank lines are ignored, but a class list needs two or more distinct names. */
export function parseClassNames(text: string): ParsedClasses {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  const names = lines.filter((l) => l.length > 0);
  const problems: string[] = [];
  if (names.length === 0) problems.push('Type at least two class names, one per line.');
  else if (names.length === 1) problems.push('Add a second class: zero-shot picks among the classes you type.');
  // CLIP's tokenizer lowercases and collapses whitespace, so these would give identical prompts.
  const canonical = (s: string) => s.toLowerCase().replace(/\s+/g, ' ');
  const seen = new Map<string, string>();
  const reported = new Set<string>();
  for (const name of names) {
    const key = canonical(name);
    const first = seen.get(key);
    if (first === undefined) {
      seen.set(key, name);
    } else if (!reported.has(key)) {
      reported.add(key);
      problems.push(
        first === name
          ? `Duplicate class: "${name}" appears more than once.`
          : `Duplicate class: "${first}" and "${name}" differ only in case or spacing, which the tokenizer ignores.`,
      );
    }
  }
  return { names, problems };
}
