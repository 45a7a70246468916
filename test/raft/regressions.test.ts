// Bugs found by review, each reproduced as it was found, asserting the correct behaviour.
import { describe, expect, it } from 'vitest';
import { createSeededRng, encodeConfChange, MemoryStorage, RaftNode } from '../../src/raft/index.js';
import type { ConfState, Entry, Message, RaftConfigInput, Ready } from '../../src/raft/index.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

function mk(id: string, storage: MemoryStorage, opts: Partial<RaftConfigInput> = {}): RaftNode {
  return new RaftNode(
    { id, rng: createSeededRng(id.charCodeAt(1)), applied: storage.snapshot().meta.index, ...opts },
    storage,
  );
}

/** Persists and applies a Ready per the contract; returns every message it carried. */
function handle(node: RaftNode, storage: MemoryStorage, rd: Ready, applied?: Entry[]): Message[] {
  if (rd.snapshot !== undefined) storage.applySnapshot(rd.snapshot);
  storage.append(rd.entries);
  if (rd.hardState !== undefined) storage.setHardState(rd.hardState);
  applied?.push(...rd.committedEntries);
  node.advance(rd);
  return [...rd.messages, ...rd.messagesAfterPersist];
}

function drain(node: RaftNode, storage: MemoryStorage, applied?: Entry[]): Message[] {
  const out: Message[] = [];
  while (node.hasReady()) out.push(...handle(node, storage, node.ready(), applied));
  return out;
}

const userData = (a: Entry[]): string[] =>
  a.filter((e) => e.type === 'normal' && e.data.length > 0).map((e) => `${e.index}:${dec(e.data)}`);

describe('raft regressions', () => {
  it('a single voter sends nothing in the term it just took before that term is durable', () => {
    const conf: ConfState = { voters: ['n1'], learners: ['n2'] };
    const s1 = new MemoryStorage(conf);
    const s2 = new MemoryStorage(conf);
    let n1 = mk('n1', s1);
    const n2 = mk('n2', s2);
    const a1: Entry[] = [];
    const a2: Entry[] = [];
    drain(n1, s1, a1);
    drain(n2, s2, a2);
    for (let i = 0; i < 30 && n1.status().role !== 'leader'; i++) n1.tick();
    expect(n1.status()).toMatchObject({ role: 'leader', term: 2 });
    n1.propose(enc('P1'));
    const rd = n1.ready();
    // Whatever the contract lets leave before persisting must not carry the new term.
    expect(rd.messages).toEqual([]);
    for (const m of rd.messages) if (m.to === 'n2') n2.step(m);
    drain(n2, s2, a2);
    n1 = mk('n1', s1); // crash before persisting rd
    drain(n1, s1, a1);
    for (let i = 0; i < 30 && n1.status().role !== 'leader'; i++) n1.tick();
    n1.propose(enc('P2'));
    for (let r = 0; r < 20; r++) {
      const q: Message[] = [...drain(n1, s1, a1), ...drain(n2, s2, a2)];
      for (const m of q) (m.to === 'n1' ? n1 : n2).step(m);
      n1.tick();
    }
    expect(userData(a2)).toEqual(userData(a1));
  });

  it('conf entries handed out before a snapshot restore do not rewind the restored membership', () => {
    const five: ConfState = { voters: ['n1', 'n2', 'n3', 'n4', 'n5'], learners: [] };
    const s = new MemoryStorage(five);
    const n1 = mk('n1', s);
    drain(n1, s);
    const cc = (nodeId: string, index: number): Entry => ({
      index,
      term: 2,
      type: 'conf',
      data: encodeConfChange({ type: 'removeNode', nodeId }),
    });
    n1.step({
      type: 'append',
      from: 'n2',
      to: 'n1',
      term: 2,
      index: 5,
      logTerm: 1,
      commit: 7,
      entries: [cc('n4', 6), cc('n5', 7)],
    });
    const r1 = n1.ready();
    expect(r1.committedEntries.map((e) => e.index)).toContain(7);
    // While r1 is being written, a snapshot at 20 arrives: by then n4 and n5 were added back.
    n1.step({
      type: 'snapshot',
      from: 'n2',
      to: 'n1',
      term: 2,
      offset: 0,
      totalBytes: 0,
      data: new Uint8Array(0),
      meta: { index: 20, term: 2, conf: five },
    });
    handle(n1, s, r1);
    drain(n1, s);
    expect(n1.confState().voters).toEqual(five.voters);
  });

  it('removing the leader of a two-voter cluster cannot deadlock it', () => {
    const conf: ConfState = { voters: ['n1', 'n2'], learners: [] };
    const storages = new Map([
      ['n1', new MemoryStorage(conf)],
      ['n2', new MemoryStorage(conf)],
    ]);
    const nodes = new Map([...storages].map(([id, st]) => [id, mk(id, st)]));
    let queue: Message[] = [];
    const readys = (): void => {
      for (const [id, n] of nodes) queue.push(...drain(n, storages.get(id)!));
    };
    const deliver = (filter: (m: Message) => boolean = () => true): void => {
      const batch = queue;
      queue = [];
      for (const m of batch) if (filter(m)) nodes.get(m.to)?.step(m);
    };
    const n1 = nodes.get('n1')!;
    const n2 = nodes.get('n2')!;
    for (let i = 0; i < 100 && n1.status().role !== 'leader'; i++) {
      n1.tick();
      readys();
      deliver();
      readys();
      deliver();
    }
    expect(n1.status().role).toBe('leader');
    for (let i = 0; i < 3; i++) {
      readys();
      deliver();
    }
    const removal = n1.proposeConfChange({ type: 'removeNode', nodeId: 'n1' });
    expect(removal.ok).toBe(true);
    readys();
    deliver();
    readys();
    deliver((m) => m.to === 'n1');
    // Once its removal is proposed, the leader takes no more writes: nothing may follow it.
    const late = n1.propose(enc('w'));
    expect(late.ok).toBe(false);
    readys();
    queue = []; // the append that carried the commit of the removal is lost
    for (let i = 0; i < 200 && n2.status().role !== 'leader'; i++) {
      for (const n of nodes.values()) n.tick();
      readys();
      deliver();
      readys();
      deliver();
    }
    expect(n2.status().role).toBe('leader');
    for (let i = 0; i < 5; i++) {
      for (const n of nodes.values()) n.tick();
      readys();
      deliver();
    }
    expect(n2.confState().voters).toEqual(['n2']);
    expect(n1.status().role).toBe('follower');
  });
});
