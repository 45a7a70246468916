import type Database from 'better-sqlite3';
import { StorageError } from './errors.js';

/** Version of the tables this code reads and writes. Bump with a migration in MIGRATIONS. */
export const SCHEMA_VERSION = 1;

/**
 * Migrations from version N-1 to N, applied in order inside one transaction. A database at a
 * version above SCHEMA_VERSION is refused: its meaning is unknown to this code.
 */
const MIGRATIONS: readonly string[] = [
  // 0 → 1
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE raft_log (
    idx INTEGER PRIMARY KEY,
    term INTEGER NOT NULL,
    type INTEGER NOT NULL,
    data BLOB NOT NULL
  );
  CREATE TABLE raft_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    term INTEGER NOT NULL,
    vote TEXT NOT NULL,
    commit_index INTEGER NOT NULL,
    compact_index INTEGER NOT NULL,
    compact_term INTEGER NOT NULL,
    applied_index INTEGER NOT NULL,
    applied_term INTEGER NOT NULL,
    applied_conf TEXT NOT NULL
  );
  INSERT INTO raft_state VALUES (1, 0, '', 0, 0, 0, 0, 0, '{"voters":[],"learners":[]}');
  `,
];

export interface Identity {
  readonly clusterName: string;
  readonly nodeName: string;
}

/**
 * Brings a freshly opened database to SCHEMA_VERSION and checks it belongs to this cluster and
 * node. Throws StorageError naming `file` when it must not be used.
 */
export function prepareSchema(db: Database.Database, file: string, identity: Identity): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new StorageError(
      'SCHEMA_TOO_NEW',
      file,
      `schema version ${version} is newer than this Conclave supports (${SCHEMA_VERSION}); upgrade Conclave to use this data`,
    );
  }
  if (version === 0 && hasTables(db)) {
    throw new StorageError('DATA_CORRUPT', file, 'the file holds tables but no Conclave schema version');
  }
  if (version < SCHEMA_VERSION) {
    db.transaction(() => {
      for (let v = version; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
      if (version === 0) {
        const insert = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
        insert.run('cluster_name', identity.clusterName);
        insert.run('node_name', identity.nodeName);
      }
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    })();
  }
  const meta = new Map(
    (db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]).map((r) => [
      r.key,
      r.value,
    ]),
  );
  const cluster = meta.get('cluster_name');
  if (cluster !== identity.clusterName) {
    throw new StorageError(
      'DATA_DIR_OTHER_CLUSTER',
      file,
      `belongs to cluster "${cluster ?? '?'}", not "${identity.clusterName}"; use another data dir or the right cluster-name`,
    );
  }
  const node = meta.get('node_name');
  if (node !== identity.nodeName) {
    throw new StorageError(
      'DATA_DIR_OTHER_NODE',
      file,
      `belongs to node "${node ?? '?'}", not "${identity.nodeName}"; each node needs its own data dir`,
    );
  }
}

function hasTables(db: Database.Database): boolean {
  const row = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as {
    n: number;
  };
  return row.n > 0;
}
