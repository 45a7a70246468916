// Parsing of command-line values shared by the commands: integers, and the raw argv after a
// subcommand for the commands that parse their settings themselves.

import { InvalidArgumentError } from 'commander';

/** A commander parser for an integer ≥ `min` (a usage error otherwise). */
export function integerAtLeast(min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\s*-?\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min) {
      throw new InvalidArgumentError(`must be an integer ≥ ${min}`);
    }
    return n;
  };
}

/**
 * The raw arguments after the words of a subcommand (`server`, or `snapshot restore`), so the
 * config module parses them itself.
 */
export function argvAfter(...words: readonly string[]): string[] {
  const args = process.argv.slice(2);
  let at = -1;
  for (const word of words) {
    at = args.indexOf(word, at + 1);
    if (at < 0) return [];
  }
  return args.slice(at + 1);
}
