// Shared helpers for the kv tests: real SQLite files in a temp directory (WAL, synchronous=FULL),
// and a harness that applies commands the way the node driver does (inside a transaction, with
// increasing raft indexes).

import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect } from 'vitest';
import {
  encodeCommand,
  KvError,
  KvStore,
  type ApplyOk,
  type ApplyResult,
  type Command,
  type KvErrorCode,
  type KvStoreOptions,
} from '../../src/kv/index.js';

const cleanups: (() => void)[] = [];

afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

/** A fresh database file in its own temp directory, closed and removed after the test. */
export function openDatabase(): Database.Database {
  const dir = mkdtempSync(join(tmpdir(), 'conclave-kv-'));
  const db = new Database(join(dir, 'node.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  cleanups.push(() => {
    if (db.open) db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return db;
}

export class Harness {
  readonly db: Database.Database;
  readonly kv: KvStore;
  /** The raft index of the last applied entry. */
  index = 0;

  constructor(options: KvStoreOptions = {}) {
    this.db = openDatabase();
    this.kv = new KvStore(this.db, options);
  }

  /** Applies one command (or raw entry bytes) at the next index, in its own transaction. */
  apply(command: Command | Uint8Array): ApplyResult {
    const bytes = command instanceof Uint8Array ? command : encodeCommand(command);
    return this.db.transaction(() => this.kv.apply(++this.index, bytes))();
  }

  /** Applies a command that must succeed, and returns its result. */
  ok(command: Command): ApplyOk {
    const result = this.apply(command);
    if ('error' in result) throw new Error(`unexpected error result: ${JSON.stringify(result.error)}`);
    return result;
  }

  put(key: string, value: string): ApplyOk {
    return this.ok({ type: 'put', key, value });
  }

  /** Closes the database early (the files are removed after the test). */
  close(): void {
    this.db.close();
  }

  /** Runs `fn` inside a transaction, like the driver does. */
  inTransaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  keys(): string[] {
    return this.kv.range().kvs.map((kv) => kv.key);
  }
}

/** Asserts an error result with the given code. */
export function expectError(result: ApplyResult, code: KvErrorCode): void {
  expect(result).toEqual({ error: { code, message: expect.any(String) as unknown } });
}

/** Asserts that `fn` throws a KvError with the given code. */
export function expectKvError(fn: () => unknown, code: KvErrorCode): KvError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(KvError);
    expect((err as KvError).code).toBe(code);
    return err as KvError;
  }
  throw new Error(`expected a KvError ${code}, nothing was thrown`);
}
