// WatchHub against a real KvStore on a real SQLite file, with sinks that can be made full.
import { describe, expect, it, vi } from 'vitest';
import type { ChangeEvent } from '../../src/kv/index.js';
import type { WatchFilter, WatchSink } from '../../src/server/watch/watch-hub.js';
import { WatchHub } from '../../src/server/watch/watch-hub.js';
import { Harness } from '../kv/helpers.js';

class TestSink implements WatchSink {
  readonly events: ChangeEvent[] = [];
  /** For each event, whether it was marked as the last change of its revision. */
  readonly ends: boolean[] = [];
  readonly progressed: number[] = [];
  failed: { code: string; details: { oldest: number; compactedRevision: number } } | undefined;
  /** While > 0, each event taken counts down; at 0 the sink reports full until release(). */
  room = Number.POSITIVE_INFINITY;
  private waiting: (() => void)[] = [];

  event(event: ChangeEvent, revisionEnd: boolean): boolean {
    this.events.push(event);
    this.ends.push(revisionEnd);
    this.room--;
    return this.room > 0;
  }
  progress(revision: number): void {
    this.progressed.push(revision);
  }
  fail(code: 'COMPACTED', details: { oldest: number; compactedRevision: number }): void {
    this.failed = { code, details };
  }
  drained(): Promise<void> {
    if (this.room > 0) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push(resolve));
  }
  release(room = Number.POSITIVE_INFINITY): void {
    this.room = room;
    for (const w of this.waiting.splice(0)) w();
  }
  ids(): string[] {
    return this.events.map((e) => `${e.revision}:${e.sub}:${e.kv.key}`);
  }
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 10));

function setup(): { h: Harness; hub: WatchHub; put: (key: string) => void } {
  const h = new Harness();
  const hub = new WatchHub(h.kv);
  return {
    h,
    hub,
    put: (key) => {
      h.put(key, `v-${key}`);
      hub.dispatch();
    },
  };
}

function watch(hub: WatchHub, filter: WatchFilter, fromRevision: number, sink: TestSink) {
  return hub.watch(filter, { revision: fromRevision, sub: 0 }, sink);
}

describe('WatchHub', () => {
  it('sends history first, then live changes, in order, each once, filtered', async () => {
    const { h, hub, put } = setup();
    put('a/1');
    put('b/1');
    put('a/2');
    const sink = new TestSink();
    watch(hub, { prefix: 'a/' }, 1, sink);
    await settle();
    put('a/3');
    h.ok({
      type: 'txn',
      compare: [],
      success: [
        { type: 'put', key: 'a/4', value: 'x' },
        { type: 'put', key: 'b/2', value: 'y' },
        { type: 'put', key: 'a/5', value: 'z' },
      ],
      failure: [],
    });
    hub.dispatch();
    expect(sink.ids()).toEqual(['1:0:a/1', '3:0:a/2', '4:0:a/3', '5:0:a/4', '5:2:a/5']);
    expect(sink.ends).toEqual([true, true, true, false, true]);
  });

  it('marks the last change of each revision across page boundaries', async () => {
    const { h, hub } = setup();
    // Revisions of 3 changes each, so that pages of 500 cut through some of them.
    for (let r = 0; r < 400; r++) {
      h.ok({
        type: 'txn',
        compare: [],
        success: [0, 1, 2].map((i) => ({ type: 'put' as const, key: `t/${r}/${i}`, value: 'x' })),
        failure: [],
      });
    }
    hub.dispatch();
    const sink = new TestSink();
    watch(hub, { prefix: '' }, 1, sink);
    await settle();
    expect(sink.events).toHaveLength(1_200);
    expect(sink.ends).toEqual(sink.events.map((e) => e.sub === 2));
  });

  it('a single-key watch sees only that key', async () => {
    const { hub, put } = setup();
    const sink = new TestSink();
    watch(hub, { key: 'k' }, 1, sink);
    await settle();
    put('k');
    put('kk');
    put('k');
    expect(sink.ids()).toEqual(['1:0:k', '3:0:k']);
  });

  it('a full sink falls back to reading the log and loses nothing', async () => {
    const { hub, put } = setup();
    const sink = new TestSink();
    watch(hub, { prefix: '' }, 1, sink);
    await settle();
    sink.room = 2;
    for (let i = 0; i < 10; i++) put(`k${i}`);
    expect(sink.events).toHaveLength(2); // full after two; the rest waits in the log
    sink.release(3);
    await settle();
    expect(sink.events).toHaveLength(5);
    sink.release();
    await settle();
    put('k10');
    expect(sink.ids()).toEqual(Array.from({ length: 11 }, (_, i) => `${i + 1}:0:k${i}`));
  });

  it('loses nothing written while it catches up, however the two interleave', async () => {
    const { hub, put } = setup();
    for (let i = 0; i < 1_200; i++) put(`h${i}`);
    const sink = new TestSink();
    sink.room = 300;
    watch(hub, { prefix: '' }, 1, sink);
    for (let i = 0; i < 200; i++) {
      put(`l${i}`);
      if (i % 7 === 0) sink.release(300);
      await new Promise((r) => setTimeout(r, i % 3));
    }
    sink.release();
    await settle();
    put('last');
    const keys = [
      ...Array.from({ length: 1_200 }, (_, i) => `h${i}`),
      ...Array.from({ length: 200 }, (_, i) => `l${i}`),
      'last',
    ];
    expect(sink.events.map((e) => e.kv.key)).toEqual(keys);
  });

  it('progress only when caught up and idle, carrying the current revision', async () => {
    const { hub, put } = setup();
    put('a');
    const sink = new TestSink();
    const handle = watch(hub, { prefix: '' }, 2, sink);
    await settle();
    handle.progressIfIdle(0);
    expect(sink.progressed).toEqual([1]);
    handle.progressIfIdle(60_000);
    expect(sink.progressed).toEqual([1]);
  });

  it('fails a watch whose changes were compacted before it read them', async () => {
    const { h, hub, put } = setup();
    for (let i = 0; i < 5; i++) put(`k${i}`);
    const sink = new TestSink();
    sink.room = 1;
    watch(hub, { prefix: '' }, 1, sink);
    await settle();
    expect(sink.events).toHaveLength(1);
    h.ok({ type: 'compact', revision: 4 });
    hub.dispatch();
    sink.release();
    await settle();
    expect(sink.failed).toEqual({ code: 'COMPACTED', details: { oldest: 5, compactedRevision: 4 } });
  });

  it('keeps live watches through a compaction of what they already have', async () => {
    const { h, hub, put } = setup();
    const sink = new TestSink();
    watch(hub, { prefix: '' }, 1, sink);
    await settle();
    put('a');
    put('b');
    h.ok({ type: 'compact', revision: 2 });
    hub.dispatch();
    put('c');
    expect(sink.failed).toBeUndefined();
    expect(sink.ids()).toEqual(['1:0:a', '2:0:b', '3:0:c']);
  });

  it('stops delivering once stopped', async () => {
    const { hub, put } = setup();
    const sink = new TestSink();
    const handle = watch(hub, { prefix: '' }, 1, sink);
    await settle();
    put('a');
    handle.stop();
    put('b');
    expect(sink.ids()).toEqual(['1:0:a']);
    expect(hub.size).toBe(0);
  });
});

describe('WatchHub - a live watch never gets changes before its start', () => {
  it('a watch starting beyond the current revision gets nothing earlier', async () => {
    const { hub, put } = setup();
    put('a'); // revision 1
    const sink = new TestSink();
    watch(hub, { prefix: '' }, 4, sink);
    await settle();
    put('b'); // 2
    put('c'); // 3
    put('d'); // 4
    put('e'); // 5
    expect(sink.ids()).toEqual(['4:0:d', '5:0:e']);
  });

  it('a watch added by a sink while a change is dispatched does not get that change twice', async () => {
    const { hub, put } = setup();
    const outer = new TestSink();
    const inner = new TestSink();
    const original = outer.event.bind(outer);
    outer.event = (event, end) => {
      // Added during dispatch, from the revision being dispatched: it reads it from the log.
      if (outer.events.length === 0) watch(hub, { prefix: '' }, event.revision, inner);
      return original(event, end);
    };
    watch(hub, { prefix: '' }, 1, outer);
    await settle();
    put('a');
    await settle();
    put('b');
    expect(outer.ids()).toEqual(['1:0:a', '2:0:b']);
    expect(inner.ids()).toEqual(['1:0:a', '2:0:b']);
  });

  it("a secondary's applied changes are offered as they are, the same as reading them back", async () => {
    const source = new Harness();
    source.put('a', '1');
    const at = source.kv.revision();
    const before = source.kv.serialize();
    source.put('a', '2');
    source.ok({
      type: 'txn',
      compare: [],
      success: [
        { type: 'put', key: 'b', value: '3' },
        { type: 'delete', key: 'a' },
        { type: 'put', key: 'c', value: '4' },
      ],
      failure: [],
    });
    source.put('b', '5');
    source.ok({ type: 'deleteRange', prefix: '' });
    const read = source.kv.changesSince(at + 1, 1000);
    if (read.compacted) throw new Error('compacted');
    // As a secondary gets them: JSON over the stream.
    const streamed = JSON.parse(JSON.stringify(read.events)) as ChangeEvent[];
    const byRevision = new Map<number, ChangeEvent[]>();
    for (const e of streamed) byRevision.set(e.revision, [...(byRevision.get(e.revision) ?? []), e]);

    const results = [];
    for (const handOver of [true, false]) {
      // The secondary, at the revision before the changes.
      const fresh = new Harness();
      fresh.inTransaction(() => {
        fresh.kv.restore(before);
      });
      const hub = new WatchHub(fresh.kv);
      const sink = new TestSink();
      watch(hub, { prefix: '' }, at + 1, sink);
      await settle();
      const reads = vi.spyOn(fresh.kv, 'changesSince');
      for (const events of byRevision.values()) {
        fresh.kv.applyChangeEvents(events);
        hub.dispatch(handOver ? events : undefined);
      }
      results.push({ events: sink.events, ends: sink.ends, reads: reads.mock.calls.length });
    }
    const [handedOver, readBack] = results;
    expect(handedOver!.events).toEqual(readBack!.events);
    expect(handedOver!.ends).toEqual(readBack!.ends);
    expect(handedOver!.events.map((e) => `${e.revision}:${e.sub}`)).toEqual(
      streamed.map((e) => `${e.revision}:${e.sub}`),
    );
    expect(handedOver!.reads).toBe(0);
    expect(readBack!.reads).toBeGreaterThan(0);
  });
});
