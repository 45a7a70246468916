// A secondary's state file (src/secondary/state-file.ts): written from a copy of the in-memory
// replica by a worker thread (compiled code) or on the calling thread (sources); either way the
// file replaces the previous one, restores to exactly the replica's state and leaves nothing
// behind; a write that cannot happen rejects (it does not throw).
import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeCommand, KvStore } from '../../src/kv/index.js';
import { writeStateFile } from '../../src/secondary/state-file.js';

// dist/ is built by the test setup; imported by URL so that typechecking does not need it.
type StateFileModule = typeof import('../../src/secondary/state-file.js');
const compiled = (await import(
  new URL('../../dist/secondary/state-file.js', import.meta.url).href
)) as StateFileModule;

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function replica(): { db: Database.Database; kv: KvStore } {
  const db = new Database(':memory:');
  const kv = new KvStore(db);
  db.transaction(() => {
    for (let i = 0; i < 2000; i++)
      kv.apply(i + 1, encodeCommand({ type: 'put', key: `k/${i % 700}`, value: `v${i}` }));
    kv.apply(2001, encodeCommand({ type: 'delete', key: 'k/3' }));
  })();
  return { db, kv };
}

describe('secondary state file', () => {
  for (const [where, write] of [
    ['worker thread', compiled.writeStateFile],
    ['calling thread', writeStateFile],
  ] as const) {
    it(`restores to exactly the replica's state (${where})`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'conclave-state-'));
      dirs.push(dir);
      const file = join(dir, 'replica.state');
      writeFileSync(file, 'an older state');
      const { db, kv } = replica();
      await write(db, kv, file);
      const restored = new KvStore(new Database(':memory:'));
      restored.restoreReplica(readFileSync(file));
      expect(restored.revision()).toBe(kv.revision());
      expect(Buffer.from(restored.serialize()).equals(Buffer.from(kv.serialize()))).toBe(true);
      expect(existsSync(`${file}.tmp`)).toBe(false);
    });

    it(`rejects a write that cannot happen (${where})`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'conclave-state-'));
      dirs.push(dir);
      const { db, kv } = replica();
      await expect(write(db, kv, join(dir, 'missing', 'replica.state'))).rejects.toThrow(/ENOENT/);
    });
  }
});
