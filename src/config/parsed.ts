// The result of a small parser: a value, or a message saying what was expected and what was given.

export type Parsed<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

export function ok<T>(value: T): Parsed<T> {
  return { ok: true, value };
}

export function fail<T = never>(message: string): Parsed<T> {
  return { ok: false, message };
}

/** A given value as it reads in a message: strings quoted and cut short, other kinds named. */
export function show(input: unknown): string {
  if (typeof input === 'string') {
    const cut = input.length > 60 ? `${input.slice(0, 57)}...` : input;
    return JSON.stringify(cut);
  }
  if (typeof input === 'number' || typeof input === 'boolean') return `the ${typeof input} ${String(input)}`;
  if (input === null || input === undefined) return 'nothing';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'a map';
  return typeof input;
}
