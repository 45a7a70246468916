// KvStore.beginReplicaLoad: a snapshot loaded piece by piece gives exactly the state a whole
// restore gives, however the bytes are cut, staged or in place; the store serves its old state
// until finish(); a corrupt, cut or padded snapshot is refused at once or at finish(), leaving
// the store as it was (an in-place load of an empty store leaves it empty).
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { expectKvError, Harness } from './helpers.js';

function source(): Harness {
  const h = new Harness();
  for (let i = 0; i < 300; i++) h.put(`k/${String(i).padStart(3, '0')}`, `value ${i} ${'x'.repeat(i % 50)}`);
  h.ok({ type: 'deleteRange', prefix: 'k/01' });
  h.put('unicode/é', 'ünïcödé ✓');
  return h;
}

function pieces(bytes: Uint8Array, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(Buffer.from(bytes.subarray(i, i + size)));
  return out;
}

describe('kv store - replica load in pieces', () => {
  const src = source();
  const history = src.kv.serialize({ history: true });
  const plain = src.kv.serialize({ history: false });
  const revision = src.kv.revision();

  it('gives the same state as a whole restore, whatever the cut', () => {
    for (const bytes of [history, plain]) {
      const whole = new Harness();
      whole.kv.restoreReplica(bytes);
      for (const size of [1, 7, 100, 4096, bytes.length]) {
        const replica = new Harness();
        replica.put('old', 'state');
        const load = replica.kv.beginReplicaLoad();
        for (const piece of pieces(bytes, size)) load.write(piece);
        const header = load.finish();
        expect(header.revision).toBe(revision);
        expect(replica.kv.revision()).toBe(revision);
        const state = Buffer.from(replica.kv.serialize({ history: true }));
        expect(state.equals(Buffer.from(whole.kv.serialize({ history: true })))).toBe(true);
        expect(replica.kv.get('old').kv).toBeUndefined();
        expect(replica.kv.replicaResumeId()).toBe(String(revision));
      }
    }
  });

  it('serves the old state until finish(), then the new one', () => {
    const replica = new Harness();
    replica.put('k/000', 'old');
    const load = replica.kv.beginReplicaLoad();
    const parts = pieces(plain, 512);
    for (const piece of parts.slice(0, -1)) load.write(piece);
    expect(replica.kv.get('k/000').kv?.value).toBe('old');
    expect(replica.kv.range({ countOnly: true }).count).toBe(1);
    load.write(parts.at(-1)!);
    expect(replica.kv.get('k/000').kv?.value).toBe('old');
    load.finish();
    expect(replica.kv.get('k/000').kv?.value).toBe('value 0 ');
  });

  it('refuses corrupt, cut and padded snapshots and changes nothing; the next load works', () => {
    const flipped = Buffer.from(plain);
    flipped[Math.floor(flipped.length / 2)]! ^= 0x40;
    const cases: Buffer[] = [
      flipped,
      Buffer.from(plain.subarray(0, plain.length - 1)),
      Buffer.from(plain.subarray(0, plain.length - 40)),
      Buffer.concat([Buffer.from(plain), Buffer.from([0])]),
      Buffer.from('not a snapshot at all, just some bytes that go on for a while'),
    ];
    const replica = new Harness();
    replica.put('keep', 'me');
    for (const bad of cases) {
      const load = replica.kv.beginReplicaLoad();
      expectKvError(() => {
        for (const piece of pieces(bad, 333)) load.write(piece);
        load.finish();
      }, 'CORRUPT_SNAPSHOT');
      load.abort();
      expect(replica.kv.get('keep').kv?.value).toBe('me');
      expect(replica.kv.range({ countOnly: true }).count).toBe(1);
    }
    const load = replica.kv.beginReplicaLoad();
    load.write(Buffer.from(plain));
    load.finish();
    expect(replica.kv.revision()).toBe(revision);
  });

  it('abort() drops what was staged', () => {
    const replica = new Harness();
    replica.put('keep', 'me');
    const load = replica.kv.beginReplicaLoad();
    load.write(Buffer.from(history.subarray(0, 1000)));
    load.abort();
    expectKvError(() => {
      load.write(Buffer.from(history.subarray(1000)));
    }, 'PRECONDITION_FAILED');
    expect(replica.kv.get('keep').kv?.value).toBe('me');
    const again = replica.kv.beginReplicaLoad();
    again.write(Buffer.from(history));
    again.finish();
    expect(replica.kv.get('keep').kv).toBeUndefined();
  });

  it('loads an empty, unserved store in place, with the same result; a non-empty one is staged', () => {
    for (const bytes of [history, plain]) {
      const whole = new Harness();
      whole.kv.restoreReplica(bytes);
      for (const size of [1, 777, bytes.length]) {
        const replica = new Harness();
        const load = replica.kv.beginReplicaLoad({ unserved: true });
        expect(load.inPlace).toBe(true);
        for (const piece of pieces(bytes, size)) load.write(piece);
        expect(load.sha256()).toBe(createHash('sha256').update(bytes).digest('hex'));
        load.finish();
        const state = Buffer.from(replica.kv.serialize({ history: true }));
        expect(state.equals(Buffer.from(whole.kv.serialize({ history: true })))).toBe(true);
        expect(replica.kv.replicaResumeId()).toBe(String(revision));
      }
    }
    const busy = new Harness();
    busy.put('k/000', 'old');
    const load = busy.kv.beginReplicaLoad({ unserved: true });
    expect(load.inPlace).toBe(false);
    load.write(Buffer.from(plain));
    expect(busy.kv.get('k/000').kv?.value).toBe('old');
    load.finish();
    expect(busy.kv.get('k/000').kv?.value).toBe('value 0 ');
  });

  it('a refused or aborted in-place load leaves the store empty; the next load works', () => {
    const flipped = Buffer.from(plain);
    flipped[Math.floor(flipped.length / 2)]! ^= 0x40;
    const replica = new Harness();
    for (const bad of [flipped, Buffer.from(plain.subarray(0, plain.length - 40))]) {
      const load = replica.kv.beginReplicaLoad({ unserved: true });
      expect(load.inPlace).toBe(true);
      expectKvError(() => {
        for (const piece of pieces(bad, 1000)) load.write(piece);
        load.finish();
      }, 'CORRUPT_SNAPSHOT');
      load.abort();
      expect(replica.kv.revision()).toBe(0);
      expect(replica.kv.range({ countOnly: true }).count).toBe(0);
      expect(replica.kv.changesSince(1, 10)).toMatchObject({ compacted: false, events: [] });
    }
    const aborted = replica.kv.beginReplicaLoad({ unserved: true });
    aborted.write(Buffer.from(history.subarray(0, history.length - 100)));
    aborted.abort();
    expect(replica.kv.range({ countOnly: true }).count).toBe(0);
    const load = replica.kv.beginReplicaLoad({ unserved: true });
    expect(load.inPlace).toBe(true);
    load.write(Buffer.from(history));
    load.finish();
    expect(replica.kv.revision()).toBe(revision);
  });
});
