/** A small argv reader: --name value, --flag, positional arguments; every unknown option is an error that says so. */
export class ArgError extends Error {}

export interface Parsed {
  opts: Map<string, string | true>;
  positional: string[];
}

export function parseArgs(argv: readonly string[], known: Record<string, 'value' | 'flag' | 'optional'>): Parsed {
  const opts = new Map<string, string | true>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    const kind = known[name];
    if (!kind) throw new ArgError(`unknown option --${name} (known: ${Object.keys(known).map((k) => `--${k}`).join(' ')})`);
    if (eq > 0) opts.set(name, a.slice(eq + 1));
    else if (kind === 'flag') opts.set(name, true);
    else if (kind === 'optional') {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith('--')) opts.set(name, argv[++i]);
      else opts.set(name, true);
    } else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw new ArgError(`--${name} needs a value`);
      opts.set(name, argv[++i]);
    }
  }
  return { opts, positional };
}

export function str(p: Parsed, name: string): string | undefined {
  const v = p.opts.get(name);
  return typeof v === 'string' ? v : undefined;
}

export function need(p: Parsed, name: string, what: string): string {
  const v = str(p, name);
  if (v === undefined) throw new ArgError(`--${name} ${what} is required`);
  return v;
}

export function intList(p: Parsed, name: string, fallback: number[]): number[] {
  const v = str(p, name);
  if (v === undefined) return fallback;
  const xs = v.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (!xs.length || xs.some((x) => !Number.isInteger(x) || x < 1)) throw new ArgError(`--${name} takes positive integers separated by commas, got '${v}'`);
  return xs;
}

export function positiveInt(p: Parsed, name: string, fallback: number): number {
  const v = str(p, name);
  if (v === undefined) return fallback;
  const x = Number(v);
  if (!Number.isInteger(x) || x < 1) throw new ArgError(`--${name} takes a positive integer, got '${v}'`);
  return x;
}

export function positiveNumber(p: Parsed, name: string, fallback: number): number {
  const v = str(p, name);
  if (v === undefined) return fallback;
  const x = Number(v);
  if (!Number.isFinite(x) || x < 0) throw new ArgError(`--${name} takes a non-negative number, got '${v}'`);
  return x;
}

export function oneOf<T extends string>(p: Parsed, name: string, allowed: readonly T[], fallback: T): T {
  const v = str(p, name);
  if (v === undefined) return fallback;
  if (!allowed.includes(v as T)) throw new ArgError(`--${name} must be one of ${allowed.join(', ')}, got '${v}'`);
  return v as T;
}
