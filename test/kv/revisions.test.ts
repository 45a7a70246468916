import { describe, expect, it } from 'vitest';
import { Harness } from './helpers.js';

const meta = (h: Harness, key: string): unknown => {
  const kv = h.kv.get(key).kv;
  return kv && { create: kv.createRevision, mod: kv.modRevision, version: kv.version };
};

describe('kv store - revisions, as etcd', () => {
  it('a put creates at the new revision; later puts keep createRevision and bump version', () => {
    const h = new Harness();
    expect(h.kv.revision()).toBe(0);
    expect(h.put('a', '1').revision).toBe(1);
    expect(meta(h, 'a')).toEqual({ create: 1, mod: 1, version: 1 });
    expect(h.put('b', '1').revision).toBe(2);
    expect(h.put('a', '2').revision).toBe(3);
    expect(meta(h, 'a')).toEqual({ create: 1, mod: 3, version: 2 });
    h.put('a', '2'); // same value: still a write
    expect(meta(h, 'a')).toEqual({ create: 1, mod: 4, version: 3 });
    expect(meta(h, 'b')).toEqual({ create: 2, mod: 2, version: 1 });
  });

  it('a delete removes the key; a later put recreates it with a new createRevision and version 1', () => {
    const h = new Harness();
    h.put('a', '1');
    h.put('a', '2');
    expect(h.ok({ type: 'delete', key: 'a' }).revision).toBe(3);
    expect(meta(h, 'a')).toBeUndefined();
    expect(h.put('a', '3').revision).toBe(4);
    expect(meta(h, 'a')).toEqual({ create: 4, mod: 4, version: 1 });
  });

  it('commands that change nothing keep the revision', () => {
    const h = new Harness();
    h.put('a', '1');
    expect(h.apply({ type: 'delete', key: 'missing' })).toEqual({ type: 'delete', deleted: 0, revision: 1 });
    expect(h.apply({ type: 'deleteRange', prefix: 'zz' })).toEqual({
      type: 'delete',
      deleted: 0,
      revision: 1,
    });
    expect(
      h.ok({ type: 'txn', compare: [], success: [{ type: 'get', key: 'a' }], failure: [] }).revision,
    ).toBe(1);
    expect(h.ok({ type: 'noop' }).revision).toBe(1);
    expect(h.kv.revision()).toBe(1);
  });

  it('all writes of one command share one revision, numbered by sub', () => {
    const h = new Harness();
    h.put('x', '0');
    const r = h.ok({
      type: 'txn',
      compare: [],
      success: [
        { type: 'put', key: 'a', value: '1' },
        { type: 'put', key: 'b', value: '1' },
        { type: 'delete', key: 'x' },
      ],
      failure: [],
    });
    expect(r.revision).toBe(2);
    expect(meta(h, 'a')).toEqual({ create: 2, mod: 2, version: 1 });
    expect(meta(h, 'b')).toEqual({ create: 2, mod: 2, version: 1 });
    const changes = h.kv.changesSince(2, 10);
    expect(changes.compacted).toBe(false);
    if (!changes.compacted) {
      expect(changes.events.map((e) => [e.revision, e.sub, e.type, e.kv.key])).toEqual([
        [2, 0, 'put', 'a'],
        [2, 1, 'put', 'b'],
        [2, 2, 'delete', 'x'],
      ]);
    }
    expect(h.put('c', '1').revision).toBe(3);
  });
});
