// Durations ("150ms", "2s", "1m30s", plain integer = milliseconds) and sizes ("512KiB", "1MiB",
// "1MB", plain integer = bytes), parsed to whole milliseconds and bytes.

import { fail, ok, show, type Parsed } from './parsed.js';

export const DURATION_EXPECTED =
  'a duration such as 150ms, 2s, 1m or 1m30s (units ms, s, m, h; a plain integer is milliseconds)';
export const SIZE_EXPECTED =
  'a size such as 4096, 512KiB, 1MiB or 1MB (units B, KB, KiB, MB, MiB, GB, GiB; a plain integer is bytes)';

const DURATION_UNITS_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

const SIZE_UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1000,
  kib: 1024,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
};

/** Milliseconds from a number (already milliseconds) or a duration string. */
export function parseDuration(input: string | number): Parsed<number> {
  if (typeof input === 'number') return wholeNumber(input, 'milliseconds', DURATION_EXPECTED);
  const text = input.trim();
  if (/^\d+$/.test(text)) return wholeNumber(Number(text), 'milliseconds', DURATION_EXPECTED);
  if (text === '') return fail(`expected ${DURATION_EXPECTED}, got ${show(input)}`);
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;
  let total = 0;
  let at = 0;
  while (at < text.length) {
    part.lastIndex = at;
    const m = part.exec(text);
    if (m === null) return fail(`expected ${DURATION_EXPECTED}, got ${show(input)}`);
    total += Number(m[1]) * (DURATION_UNITS_MS[m[2] ?? ''] ?? Number.NaN);
    at = part.lastIndex;
  }
  return wholeNumber(Math.round(total * 1000) / 1000, 'milliseconds', DURATION_EXPECTED, input);
}

/** Bytes from a number (already bytes) or a size string. */
export function parseSize(input: string | number): Parsed<number> {
  if (typeof input === 'number') return wholeNumber(input, 'bytes', SIZE_EXPECTED);
  const m = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(input.trim());
  const unit = SIZE_UNITS[(m?.[2] ?? '').toLowerCase() || 'b'];
  if (m === null || unit === undefined) return fail(`expected ${SIZE_EXPECTED}, got ${show(input)}`);
  return wholeNumber(Math.round(Number(m[1]) * unit * 1000) / 1000, 'bytes', SIZE_EXPECTED, input);
}

function wholeNumber(n: number, what: string, expected: string, given: unknown = n): Parsed<number> {
  if (!Number.isSafeInteger(n) || n < 0) {
    return fail(`expected ${expected} (a whole, non-negative number of ${what}), got ${show(given)}`);
  }
  return ok(n);
}

/** The shortest exact spelling of a duration: 1500 → "1500ms", 2000 → "2s", 60000 → "1m". */
export function formatDuration(ms: number): string {
  if (ms !== 0 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms !== 0 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms !== 0 && ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** The shortest exact binary spelling of a size: 1048576 → "1MiB", 1000 → "1000". */
export function formatSize(bytes: number): string {
  if (bytes !== 0 && bytes % 1024 ** 3 === 0) return `${bytes / 1024 ** 3}GiB`;
  if (bytes !== 0 && bytes % 1024 ** 2 === 0) return `${bytes / 1024 ** 2}MiB`;
  if (bytes !== 0 && bytes % 1024 === 0) return `${bytes / 1024}KiB`;
  return `${bytes}`;
}
