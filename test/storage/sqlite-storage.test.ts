import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createSeededRng, RaftNode } from '../../src/raft/index.js';
import type { StateMachinePort } from '../../src/storage/index.js';
import { DATABASE_FILE, SqliteRaftStorage, StorageError } from '../../src/storage/index.js';

/** A tiny state machine in the same database: a list of applied strings. */
class ListMachine implements StateMachinePort {
  constructor(private readonly db: Database.Database) {
    db.exec('CREATE TABLE IF NOT EXISTS items (idx INTEGER PRIMARY KEY, value TEXT NOT NULL)');
  }
  apply(index: number, data: Uint8Array): unknown {
    this.db.prepare('INSERT INTO items VALUES (?, ?)').run(index, new TextDecoder().decode(data));
    return index;
  }
  serialize(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(this.items()));
  }
  restore(data: Uint8Array): void {
    const rows = JSON.parse(new TextDecoder().decode(data)) as [number, string][];
    this.db.exec('DELETE FROM items');
    for (const [i, v] of rows) this.db.prepare('INSERT INTO items VALUES (?, ?)').run(i, v);
  }
  items(): [number, string][] {
    return (
      this.db.prepare('SELECT idx, value FROM items ORDER BY idx').all() as { idx: number; value: string }[]
    ).map((r) => [r.idx, r.value]);
  }
}

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'conclave-storage-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  dirs.length = 0;
});

function open(
  dataDir: string,
  clusterName = 'c1',
  nodeName = 'n1',
): { storage: SqliteRaftStorage; sm: ListMachine } {
  const storage = SqliteRaftStorage.open({
    dataDir,
    clusterName,
    nodeName,
    bootstrap: { voters: ['n1'], learners: [] },
  });
  const sm = new ListMachine(storage.db);
  storage.attachStateMachine(sm);
  return { storage, sm };
}

function drive(node: RaftNode, storage: SqliteRaftStorage): void {
  for (let i = 0; i < 50 && node.hasReady(); i++) {
    const rd = node.ready();
    storage.persistReady(rd);
    node.advance(rd);
  }
}

function startNode(storage: SqliteRaftStorage): RaftNode {
  const node = new RaftNode({ id: 'n1', rng: createSeededRng(1), applied: storage.appliedIndex() }, storage);
  drive(node, storage);
  for (let i = 0; i < 40 && node.status().role !== 'leader'; i++) {
    node.tick();
    drive(node, storage);
  }
  return node;
}

describe('storage - sqlite', () => {
  it('commits, applies and survives a restart with state and log intact', () => {
    const dir = tempDir();
    let { storage, sm } = open(dir);
    let node = startNode(storage);
    expect(node.status().role).toBe('leader');
    for (const v of ['a', 'b', 'c']) node.propose(new TextEncoder().encode(v));
    drive(node, storage);
    expect(sm.items().map(([, v]) => v)).toEqual(['a', 'b', 'c']);
    const before = node.status();
    storage.close();

    ({ storage, sm } = open(dir));
    expect(storage.appliedIndex()).toBe(before.applied);
    node = startNode(storage);
    expect(node.status().term).toBeGreaterThan(before.term);
    node.propose(new TextEncoder().encode('d'));
    drive(node, storage);
    // Nothing applied twice after the restart.
    expect(sm.items().map(([, v]) => v)).toEqual(['a', 'b', 'c', 'd']);
    storage.close();
  });

  /** A one-node store with 20 entries applied and its log compacted up to 5 behind. */
  function compacted(): { storage: SqliteRaftStorage; applied: number } {
    const { storage } = open(tempDir());
    const node = startNode(storage);
    for (let i = 0; i < 20; i++) node.propose(new TextEncoder().encode(`v${i}`));
    drive(node, storage);
    const applied = storage.appliedIndex();
    storage.compact(applied - 5);
    return { storage, applied };
  }

  it('compacts the log and serves a snapshot of the applied state', () => {
    const { storage, applied } = compacted();
    expect(storage.firstIndex()).toBe(applied - 4);
    expect(storage.term(applied - 6)).toBeUndefined();
    const snap = storage.snapshot()!;
    expect(snap.meta.index).toBe(applied);
    expect(snap.meta.conf.voters).toEqual(['n1']);
    expect((JSON.parse(new TextDecoder().decode(snap.data)) as unknown[]).length).toBe(20);
    storage.close();
  });

  it('with a producer, answers "not ready" while a snapshot is produced, once, then serves it', async () => {
    const { storage, applied } = compacted();
    const made = {
      meta: { index: applied, term: 1, conf: { voters: ['n1'], learners: [] } },
      data: new Uint8Array([1]),
    };
    let calls = 0;
    let finish!: (outcome: 'ok' | 'fail') => void;
    storage.setSnapshotProducer(() => {
      calls++;
      return new Promise((resolve, reject) => {
        finish = (outcome) => {
          if (outcome === 'ok') resolve(made);
          else reject(new Error('worker died'));
        };
      });
    });
    expect(storage.snapshot()).toBeUndefined();
    expect(storage.snapshot()).toBeUndefined();
    expect(calls).toBe(1);
    finish('fail');
    await new Promise((r) => setImmediate(r));
    // A failed production is tried again on the next call.
    expect(storage.snapshot()).toBeUndefined();
    expect(calls).toBe(2);
    finish('ok');
    await new Promise((r) => setImmediate(r));
    expect(storage.snapshot()).toBe(made);
    expect(calls).toBe(2);
    storage.close();
  });

  it('refuses a data dir of another cluster, naming the file', () => {
    const dir = tempDir();
    open(dir).storage.close();
    expect(() => open(dir, 'other')).toThrow(StorageError);
    try {
      open(dir, 'other');
    } catch (e) {
      expect((e as StorageError).code).toBe('DATA_DIR_OTHER_CLUSTER');
      expect((e as StorageError).message).toContain(join(dir, DATABASE_FILE));
    }
  });

  it('refuses a newer schema', () => {
    const dir = tempDir();
    open(dir).storage.close();
    const db = new Database(join(dir, DATABASE_FILE));
    db.pragma('user_version = 99');
    db.close();
    expect(() => open(dir)).toThrow(expect.objectContaining({ code: 'SCHEMA_TOO_NEW' }) as Error);
  });

  it('refuses a corrupt file', () => {
    const dir = tempDir();
    const { storage } = open(dir);
    storage.close();
    const file = join(dir, DATABASE_FILE);
    const bytes = readFileSync(file);
    bytes.fill(0x41, 0, 100); // destroy the SQLite header
    writeFileSync(file, bytes);
    expect(() => open(dir)).toThrow(expect.objectContaining({ code: 'DATA_CORRUPT' }) as Error);
  });

  it('refuses a log with a gap', () => {
    const dir = tempDir();
    const { storage } = open(dir);
    const node = startNode(storage);
    for (let i = 0; i < 5; i++) node.propose(new TextEncoder().encode(`v${i}`));
    drive(node, storage);
    storage.db.prepare('DELETE FROM raft_log WHERE idx = 3').run();
    storage.close();
    expect(() => open(dir)).toThrow(expect.objectContaining({ code: 'DATA_CORRUPT' }) as Error);
  });
});
