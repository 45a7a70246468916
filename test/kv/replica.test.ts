import { describe, expect, it } from 'vitest';
import type { ChangeEvent } from '../../src/kv/index.js';
import { expectKvError, Harness } from './helpers.js';

function changes(h: Harness, from: number): ChangeEvent[] {
  const page = h.kv.changesSince(from, 10_000);
  if (page.compacted) throw new Error('compacted');
  return [...page.events];
}

describe('kv store - replica from change events', () => {
  it('a snapshot plus the later change events give the same keys and change log as the source', () => {
    const source = new Harness();
    source.put('a', '1');
    source.put('b', '2');
    const replica = new Harness();
    replica.inTransaction(() => {
      replica.kv.restore(source.kv.serialize());
    });
    const at = source.kv.revision();
    source.put('a', '3');
    source.ok({
      type: 'txn',
      compare: [],
      success: [
        { type: 'put', key: 'c', value: '4' },
        { type: 'delete', key: 'b' },
      ],
      failure: [],
    });
    source.ok({ type: 'deleteRange', prefix: '' });
    source.put('d', '5');
    const events = changes(source, at + 1);
    replica.kv.applyChangeEvents(events.slice(0, 2));
    replica.kv.applyChangeEvents(events.slice(2));
    expect(replica.kv.range()).toEqual(source.kv.range());
    expect(replica.kv.revision()).toBe(source.kv.revision());
    expect(changes(replica, at + 1)).toEqual(events);
  });

  it('refuses events that do not continue its log, applying none of them', () => {
    const source = new Harness();
    source.put('a', '1');
    source.put('b', '2');
    source.put('c', '3');
    const replica = new Harness();
    replica.inTransaction(() => {
      replica.kv.restore(source.kv.serialize());
    });
    source.put('d', '4');
    source.put('e', '5');
    const [first, second] = changes(source, 4);
    expectKvError(() => {
      replica.kv.applyChangeEvents([first!, first!]);
    }, 'PRECONDITION_FAILED');
    expect(replica.kv.revision()).toBe(3);
    expect(replica.kv.get('d').kv).toBeUndefined();
    expectKvError(() => {
      replica.kv.applyChangeEvents([second!]); // would skip `first`
    }, 'PRECONDITION_FAILED');
    replica.kv.applyChangeEvents([first!, second!]);
    expectKvError(() => {
      replica.kv.applyChangeEvents([second!]);
    }, 'PRECONDITION_FAILED');
    expect(replica.kv.range()).toEqual(source.kv.range());
  });
});
