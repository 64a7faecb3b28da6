/**
 * Field readers for the prompt file (prompt-file.ts, prompt-file-extras.ts): each takes a key of a parsed JSON object,
 * checks its type and range, and refuses with a message that names the field and shows the value (cut to 40
 * characters). A refusal is a `Refusal`, which parsePromptFile turns into its error text.
 */

export class Refusal extends Error {}
export const refuse = (message: string): never => {
  throw new Refusal(message);
};

export type Json = Record<string, unknown>;
export const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
export const show = (v: unknown) => {
  let s: string | undefined;
  try {
    s = JSON.stringify(v);
  } catch {
    // A value nested deeper than the stack (a hostile file) cannot be shown, only named.
    return Array.isArray(v) ? 'a deeply nested array' : 'a deeply nested value';
  }
  return s === undefined ? String(v) : s.length > 40 ? `${s.slice(0, 40)}…` : s;
};

export function field(obj: Json, key: string, where: string): unknown {
  if (!(key in obj)) refuse(`${where || 'the file '}is missing the field "${key}"`);
  return obj[key];
}
export function str(obj: Json, key: string, where = ''): string {
  const v = field(obj, key, where);
  if (typeof v !== 'string' || v.length === 0) refuse(`${where}"${key}" must be a non-empty string, got ${show(v)}`);
  return v as string;
}
export function int(obj: Json, key: string, min: number, where = ''): number {
  const v = field(obj, key, where);
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) refuse(`${where}"${key}" must be an integer ≥ ${min}, got ${show(v)}`);
  return v as number;
}
export function num(obj: Json, key: string, where = '', min = -Infinity): number {
  const v = field(obj, key, where);
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) refuse(`${where}"${key}" must be a finite number${min > -Infinity ? ` ≥ ${min}` : ''}, got ${show(v)}`);
  return v as number;
}
export function bool(obj: Json, key: string, where = ''): boolean {
  const v = field(obj, key, where);
  if (typeof v !== 'boolean') refuse(`${where}"${key}" must be true or false, got ${show(v)}`);
  return v as boolean;
}
export function oneOf<T extends string>(obj: Json, key: string, allowed: readonly T[], where = ''): T {
  const v = field(obj, key, where);
  if (!allowed.includes(v as T)) refuse(`${where}"${key}" must be one of ${allowed.map((a) => `"${a}"`).join(', ')}, got ${show(v)}`);
  return v as T;
}
