// Unit tests of the simulator's building blocks.

import { describe, expect, it } from 'vitest';
import type { Message } from '../../src/raft/index.js';
import { Network } from '../../src/sim/network.js';
import { SimRandom } from '../../src/sim/random.js';
import { Scheduler } from '../../src/sim/scheduler.js';
import { ShadowLog } from '../../src/sim/shadow-log.js';
import { decodeCommand, encodeCommand, KvStateMachine } from '../../src/sim/state-machine.js';
import { Trace } from '../../src/sim/trace.js';

const hb = (from: string, to: string): Message => ({
  type: 'heartbeat',
  from,
  to,
  term: 1,
  commit: 0,
  readSeq: 0,
});

describe('sim - scheduler', () => {
  it('runs events in time order, ties in scheduling order', () => {
    const s = new Scheduler();
    const seen: string[] = [];
    s.at(5, () => seen.push('b'));
    s.at(1, () => seen.push('a'));
    s.at(5, () => seen.push('c'));
    s.at(3, () => {
      seen.push('x');
      s.after(2, () => seen.push('d')); // also at 5, scheduled last
    });
    while (s.step());
    expect(seen).toEqual(['a', 'x', 'b', 'c', 'd']);
    expect(s.now).toBe(5);
  });

  it('never moves time backwards', () => {
    const s = new Scheduler();
    const times: number[] = [];
    const r = new SimRandom(3);
    for (let i = 0; i < 1000; i++) s.at(r.range(0, 100), () => times.push(s.now));
    s.at(50, () => {
      s.at(10, () => times.push(s.now)); // in the past: runs at once, at the current time
    });
    while (s.step());
    for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThanOrEqual(times[i - 1]!);
  });
});

describe('sim - random', () => {
  it('is a pure function of the seed', () => {
    const a = new SimRandom(42);
    const b = new SimRandom(42);
    for (let i = 0; i < 100; i++) expect(a.float()).toBe(b.float());
    expect(new SimRandom(1).float()).not.toBe(new SimRandom(2).float());
  });

  it('weighted() never picks a zero weight', () => {
    const r = new SimRandom(9);
    for (let i = 0; i < 1000; i++) expect(r.weighted({ a: 1, b: 0, c: 2 })).not.toBe('b');
  });
});

describe('sim - network', () => {
  function setup(): { s: Scheduler; net: Network; got: string[] } {
    const s = new Scheduler();
    const got: string[] = [];
    const net = new Network(s, new SimRandom(1), new Trace(s, 10, false), (m) =>
      got.push(`${m.from}>${m.to}`),
    );
    return { s, net, got };
  }

  it('delivers after a latency, and drops on cut links in either direction of a split', () => {
    const { s, net, got } = setup();
    net.split(['n1'], ['n2', 'n3']);
    net.send(hb('n1', 'n2'));
    net.send(hb('n3', 'n1'));
    net.send(hb('n2', 'n3'));
    while (s.step());
    expect(got).toEqual(['n2>n3']);
    expect(s.now).toBeGreaterThan(0);
    expect(net.stats.dropped).toBe(2);
  });

  it('one-way cuts drop only one direction; heal restores', () => {
    const { s, net, got } = setup();
    net.block('n1', 'n2');
    net.send(hb('n1', 'n2'));
    net.send(hb('n2', 'n1'));
    while (s.step());
    expect(got).toEqual(['n2>n1']);
    net.heal();
    net.send(hb('n1', 'n2'));
    while (s.step());
    expect(got).toEqual(['n2>n1', 'n1>n2']);
  });

  it('drops messages in flight when their link is cut before they arrive', () => {
    const { s, net, got } = setup();
    net.send(hb('n1', 'n2'));
    net.block('n1', 'n2');
    while (s.step());
    expect(got).toEqual([]);
  });

  it('loses and duplicates messages at the configured rates, and reorders them', () => {
    const { s, net, got } = setup();
    net.params = { latencyMin: 0.5, latencyMean: 2, slowChance: 0, loss: 0.3, duplicate: 0.2 };
    const sent: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const m: Message = { type: 'heartbeat', from: 'n1', to: `x${i}`, term: 1, commit: 0, readSeq: 0 };
      sent.push(`n1>x${i}`);
      net.send(m);
    }
    while (s.step());
    expect(net.stats.dropped).toBeGreaterThan(500);
    expect(net.stats.dropped).toBeLessThan(700);
    expect(net.stats.duplicated).toBeGreaterThan(200);
    const order = got.filter((g, i) => got.indexOf(g) === i);
    expect(order).not.toEqual(sent.filter((x) => order.includes(x)));
  });
});

describe('sim - state machine', () => {
  const entry = (index: number, data: Uint8Array) => ({ index, term: 1, type: 'normal' as const, data });

  it('round-trips commands', () => {
    const w = encodeCommand('c1.2', { kind: 'write', key: 'k0', value: '1.2' });
    expect(decodeCommand(w)).toEqual({ reqId: 'c1.2', cmd: { kind: 'write', key: 'k0', value: '1.2' } });
    const c = encodeCommand('c0.1', { kind: 'cas', key: 'k1', from: null, to: '0.1' });
    expect(decodeCommand(c)).toEqual({
      reqId: 'c0.1',
      cmd: { kind: 'cas', key: 'k1', from: null, to: '0.1' },
    });
    expect(decodeCommand(new Uint8Array([1, 2]))).toBeUndefined();
  });

  it('applies every command as written (no deduplication) and snapshots its state', () => {
    const sm = new KvStateMachine();
    const cas = encodeCommand('c0.1', { kind: 'cas', key: 'k', from: null, to: 'a' });
    expect(sm.apply(entry(1, cas))).toEqual({ reqId: 'c0.1', output: true });
    expect(sm.apply(entry(2, cas))).toEqual({ reqId: 'c0.1', output: false }); // applied again, seen again
    expect(sm.apply(entry(3, new Uint8Array(0)))).toBeUndefined(); // a leader's no-op
    expect(sm.get('k')).toBe('a');
    const copy = KvStateMachine.restore(sm.serialize());
    expect(copy.applied).toBe(3);
    expect(copy.chain).toBe(sm.chain);
    expect(copy.get('k')).toBe('a');
    expect(KvStateMachine.restore(new Uint8Array(0)).applied).toBe(0);
  });

  it('state hashes depend on every applied entry', () => {
    const a = new KvStateMachine();
    const b = new KvStateMachine();
    a.apply(entry(1, new Uint8Array(0)));
    b.apply({ index: 1, term: 2, type: 'normal', data: new Uint8Array(0) });
    expect(a.chain).not.toBe(b.chain);
  });
});

describe('sim - shadow log', () => {
  it('tracks truncation, snapshots and terms', () => {
    const log = new ShadowLog();
    const e = (index: number, term: number) => ({
      index,
      term,
      type: 'normal' as const,
      data: new Uint8Array(0),
    });
    for (let i = 1; i <= 5; i++) log.push(e(i, 1));
    log.truncateFrom(4);
    log.push(e(4, 2));
    expect(log.lastIndex()).toBe(4);
    expect(log.term(4)).toBe(2);
    expect(log.term(0)).toBe(0);
    log.reset(10, 3);
    expect(log.term(10)).toBe(3);
    expect(log.term(9)).toBeUndefined();
    expect(log.lastIndex()).toBe(10);
  });
});
