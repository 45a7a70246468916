import { describe, expect, it } from 'vitest';
import type { RangeOptions } from '../../src/kv/index.js';
import { Harness } from './helpers.js';

function seeded(keys: string[]): Harness {
  const h = new Harness();
  for (const k of keys) h.put(k, `v:${k}`);
  return h;
}

describe('kv store - range', () => {
  const keys = ['a', 'app/1', 'app/2', 'app/3', 'apple', 'b', 'c/x'];

  it('reads all keys in order, with values and metadata', () => {
    const h = seeded([...keys].reverse());
    const r = h.kv.range();
    expect(r.kvs.map((kv) => kv.key)).toEqual(keys);
    expect(r.kvs[0]).toEqual({
      key: 'a',
      value: 'v:a',
      createRevision: 7,
      modRevision: 7,
      version: 1,
      lease: null,
    });
    expect(r).toMatchObject({ more: false, count: 7, revision: 7 });
  });

  it('reads by prefix', () => {
    const h = seeded(keys);
    expect(h.kv.range({ prefix: 'app/' }).kvs.map((kv) => kv.key)).toEqual(['app/1', 'app/2', 'app/3']);
    expect(h.kv.range({ prefix: 'app' }).count).toBe(4);
    expect(h.kv.range({ prefix: 'zzz' })).toEqual({ kvs: [], more: false, count: 0, revision: 7 });
    expect(h.kv.range({ prefix: '' }).count).toBe(7);
  });

  it('reads [start, end)', () => {
    const h = seeded(keys);
    const r = (o: RangeOptions): string[] => h.kv.range(o).kvs.map((kv) => kv.key);
    expect(r({ start: 'app/2', end: 'b' })).toEqual(['app/2', 'app/3', 'apple']);
    expect(r({ start: 'app/2' })).toEqual(['app/2', 'app/3', 'apple', 'b', 'c/x']);
    expect(r({ end: 'app/2' })).toEqual(['a', 'app/1']);
    expect(r({ start: 'b', end: 'b' })).toEqual([]);
    expect(r({ start: 'c', end: 'a' })).toEqual([]);
  });

  it('limits, reports more and the total count', () => {
    const h = seeded(keys);
    const r = h.kv.range({ prefix: 'app', limit: 2 });
    expect(r.kvs.map((kv) => kv.key)).toEqual(['app/1', 'app/2']);
    expect(r).toMatchObject({ more: true, count: 4 });
    expect(h.kv.range({ prefix: 'app', limit: 4 })).toMatchObject({ more: false, count: 4 });
  });

  it('paginates with after: keys strictly greater', () => {
    const many = Array.from({ length: 25 }, (_, i) => `k/${String(i).padStart(2, '0')}`);
    const h = seeded([...many, 'j', 'l']);
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = h.kv.range(
        after === undefined ? { prefix: 'k/', limit: 7 } : { prefix: 'k/', limit: 7, after },
      );
      seen.push(...page.kvs.map((kv) => kv.key));
      if (!page.more) break;
      expect(page.count).toBe(25 - seen.length + page.kvs.length);
      after = page.kvs.at(-1)?.key;
    }
    expect(seen).toEqual(many);
    expect(h.kv.range({ after: 'k/24' }).kvs.map((kv) => kv.key)).toEqual(['l']);
    expect(h.kv.range({ after: 'l' }).kvs).toEqual([]);
  });

  it('reads keys only or counts only', () => {
    const h = seeded(keys);
    const keysOnly = h.kv.range({ prefix: 'app/', keysOnly: true });
    expect(keysOnly.kvs.map((kv) => kv.value)).toEqual(['', '', '']);
    expect(keysOnly.kvs[0]).toMatchObject({ key: 'app/1', version: 1, createRevision: 2 });
    expect(h.kv.range({ prefix: 'app/', countOnly: true })).toEqual({
      kvs: [],
      more: false,
      count: 3,
      revision: 7,
    });
  });

  it('orders keys by UTF-8 bytes, not UTF-16 code units', () => {
    // UTF-16: '😀' (D83D DE00) < '\uffff'; UTF-8: '\uffff' (EF BF BF) < '😀' (F0 9F 98 80).
    const h = seeded(['😀', '\uffff', 'é', 'z', 'Z', 'a\u0000']);
    expect(h.keys()).toEqual(['Z', 'a\u0000', 'z', 'é', '\uffff', '😀']);
    expect(h.kv.range({ start: '\uffff' }).kvs.map((kv) => kv.key)).toEqual(['\uffff', '😀']);
    expect(h.kv.range({ prefix: 'é' }).count).toBe(1);
    expect(h.kv.range({ prefix: '😀' }).count).toBe(1);
  });
});
