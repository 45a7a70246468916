import { describe, expect, it } from 'vitest';
import { formatDuration, formatSize, parseDuration, parseSize } from '../../src/config/index.js';

describe('units - durations', () => {
  it.each([
    ['150ms', 150],
    ['2s', 2000],
    ['1m', 60_000],
    ['1h', 3_600_000],
    ['1m30s', 90_000],
    ['1.5s', 1500],
    ['250', 250],
    [' 100ms ', 100],
    [0, 0],
    [1000, 1000],
  ] as const)('%j is %d ms', (input, ms) => {
    expect(parseDuration(input)).toEqual({ ok: true, value: ms });
  });

  it.each(['', 'fast', '10 ms', '-5ms', '1.5ms', '5d', '1s2', 'ms'])(
    '%j is refused with the forms expected',
    (input) => {
      const r = parseDuration(input);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.message).toContain('150ms, 2s');
    },
  );

  it('refuses negative and fractional numbers', () => {
    expect(parseDuration(-1).ok).toBe(false);
    expect(parseDuration(0.5).ok).toBe(false);
  });

  it('formats the shortest exact spelling', () => {
    expect([0, 150, 1000, 1500, 60_000, 7_200_000].map(formatDuration)).toEqual([
      '0ms',
      '150ms',
      '1s',
      '1500ms',
      '1m',
      '2h',
    ]);
  });
});

describe('units - sizes', () => {
  it.each([
    ['4096', 4096],
    ['512KiB', 512 * 1024],
    ['1MiB', 1024 * 1024],
    ['1GiB', 1024 ** 3],
    ['1KB', 1000],
    ['2MB', 2_000_000],
    ['1.5KiB', 1536],
    ['1 MiB', 1024 * 1024],
    ['10B', 10],
    [65536, 65536],
  ] as const)('%j is %d bytes', (input, bytes) => {
    expect(parseSize(input)).toEqual({ ok: true, value: bytes });
  });

  it.each(['', 'big', '1M', '1TiB', '-1KiB', '0.3B'])('%j is refused with the units expected', (input) => {
    const r = parseSize(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain('KiB');
  });

  it('formats binary multiples', () => {
    expect([1000, 4096, 1024 * 1024, 3 * 1024 ** 3].map(formatSize)).toEqual([
      '1000',
      '4KiB',
      '1MiB',
      '3GiB',
    ]);
  });
});
